#include "spool.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace pulse::translator {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

Status sys_error(const std::string& what) {
  return Error{0, what + ": " + std::strerror(errno)};
}

Status fsync_path(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return sys_error("open " + path);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return sys_error("fsync " + path);
  return ok_status();
}

// Writes `text` to `path` so that a crash leaves either the old file or the new one.
Status write_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return sys_error("open " + tmp);
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = sys_error("write " + tmp);
      ::close(fd);
      return s;
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status s = sys_error("fsync " + tmp);
    ::close(fd);
    return s;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return sys_error("rename " + tmp);
  return fsync_path(fs::path(path).parent_path().string(), O_RDONLY | O_DIRECTORY);
}

json pending_to_json(const Pending& p) {
  json outs = json::array();
  for (const auto& o : p.outputs) {
    outs.push_back(
        {{"routing_key", o.routing_key}, {"payload", o.payload}, {"published", o.published}});
  }
  return {{"id", p.id},
          {"input_key", p.input_key},
          {"log_url", p.log_url},
          {"received", p.received},
          {"outputs", outs}};
}

std::optional<Pending> pending_from_json(const json& j) {
  if (!j.is_object() || !j.value("id", json()).is_string() || !j.contains("outputs")) {
    return std::nullopt;
  }
  Pending p;
  p.id = j["id"].get<std::string>();
  p.input_key = j.value("input_key", "");
  p.log_url = j.value("log_url", "");
  p.received = j.value("received", int64_t{0});
  for (const auto& o : j["outputs"]) {
    if (!o.is_object() || !o.value("routing_key", json()).is_string()) return std::nullopt;
    p.outputs.push_back({o["routing_key"].get<std::string>(), o.value("payload", json()),
                         o.value("published", false)});
  }
  return p;
}

}  // namespace

std::string input_id(std::string_view routing_key, std::string_view body) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx, routing_key.data(), routing_key.size());
  EVP_DigestUpdate(ctx, "\n", 1);
  EVP_DigestUpdate(ctx, body.data(), body.size());
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

Result<std::unique_ptr<Spool>> Spool::open(const std::string& dir, size_t keep) {
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "pending", ec);
  if (ec) return Error{0, "cannot create " + dir + "/pending: " + ec.message()};
  std::unique_ptr<Spool> s(new Spool(dir, keep));
  if (Status st = s->load(); !st) return st.error();
  return s;
}

Status Spool::load() {
  std::ifstream done(dir_ + "/done.log");
  std::string line;
  while (std::getline(done, line)) {
    if (line.empty()) continue;  // a torn last line after a crash reads as garbage; harmless
    remember_done(line);
    ++done_lines_;
  }
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(dir_ + "/pending", ec)) {
    const std::string path = f.path().string();
    if (f.path().extension() != ".json") {
      fs::remove(f.path(), ec);  // a .tmp left by a crash mid-write: its input was not acked
      continue;
    }
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    auto p = pending_from_json(json::parse(ss.str(), nullptr, false));
    if (!p) return Error{0, "unreadable pending file " + path};
    if (done_.count(p->id)) {
      fs::remove(f.path(), ec);  // finished just before a crash: only the unlink was missing
      continue;
    }
    pending_.emplace(p->id, std::move(*p));
  }
  if (ec) return Error{0, "cannot read " + dir_ + "/pending: " + ec.message()};
  return ok_status();
}

void Spool::remember_done(const std::string& id) {
  if (!done_.insert(id).second) return;
  done_order_.push_back(id);
  while (done_order_.size() > keep_) {
    done_.erase(done_order_.front());
    done_order_.pop_front();
  }
}

bool Spool::seen(const std::string& id) const {
  std::lock_guard lock(mu_);
  return pending_.count(id) > 0 || done_.count(id) > 0;
}

size_t Spool::pending_count() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}

Status Spool::write_pending(const Pending& p) {
  return write_atomically(dir_ + "/pending/" + p.id + ".json", pending_to_json(p).dump());
}

Status Spool::add(Pending p) {
  if (Status s = write_pending(p); !s) return s;
  std::lock_guard lock(mu_);
  pending_.emplace(p.id, std::move(p));
  return ok_status();
}

std::vector<std::string> Spool::due(int64_t now) const {
  std::lock_guard lock(mu_);
  std::vector<std::pair<int64_t, std::string>> d;
  for (const auto& [id, p] : pending_) {
    if (p.next_check <= now) d.emplace_back(p.received, id);
  }
  std::sort(d.begin(), d.end());
  std::vector<std::string> out;
  for (auto& e : d) out.push_back(std::move(e.second));
  return out;
}

std::optional<Pending> Spool::get(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = pending_.find(id);
  if (it == pending_.end()) return std::nullopt;
  return it->second;
}

void Spool::reschedule(const std::string& id, int64_t next_check) {
  std::lock_guard lock(mu_);
  if (auto it = pending_.find(id); it != pending_.end()) it->second.next_check = next_check;
}

Status Spool::mark_published(const std::string& id, size_t output) {
  Pending copy;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(id);
    if (it == pending_.end() || output >= it->second.outputs.size()) {
      return Error{0, "no pending output " + id};
    }
    it->second.outputs[output].published = true;
    copy = it->second;
  }
  return write_pending(copy);
}

Status Spool::append_done(const std::string& id) {
  const std::string path = dir_ + "/done.log";
  if (done_lines_ >= 2 * keep_) {
    // Compaction: the newest `keep` ids (this one included) replace the file.
    std::string text;
    for (const auto& d : done_order_) text += d + "\n";
    if (Status s = write_atomically(path, text + id + "\n"); !s) return s;
    done_lines_ = done_order_.size() + 1;
    return ok_status();
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return sys_error("open " + path);
  const std::string line = id + "\n";
  ssize_t n = ::write(fd, line.data(), line.size());
  int rc = n == static_cast<ssize_t>(line.size()) ? ::fsync(fd) : -1;
  Status s = rc == 0 ? ok_status() : sys_error("append " + path);
  ::close(fd);
  if (s) ++done_lines_;
  return s;
}

Status Spool::finish(const std::string& id) {
  std::lock_guard lock(mu_);
  if (Status s = append_done(id); !s) return s;
  remember_done(id);
  pending_.erase(id);
  std::error_code ec;
  fs::remove(dir_ + "/pending/" + id + ".json", ec);
  if (ec) return Error{0, "cannot remove the pending file of " + id};
  return fsync_path(dir_ + "/pending", O_RDONLY | O_DIRECTORY);
}

}  // namespace pulse::translator
