#include "pulse/accounts/account_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

namespace pulse::accounts {

using nlohmann::json;

Result<std::vector<Record>> MemoryAccountStore::load_all() {
  std::vector<Record> out;
  for (const auto& [k, v] : records_) out.push_back(Record{k, v});
  return out;
}

Status MemoryAccountStore::put(const Record& record) {
  records_[record.key] = record.json;
  return {};
}

Status MemoryAccountStore::remove(const std::string& key) {
  records_.erase(key);
  return {};
}

Status JsonFileAccountStore::load_if_needed() {
  if (loaded_) return {};
  std::ifstream in(path_);
  if (!in) {
    if (errno == ENOENT) {
      loaded_ = true;
      return {};
    }
    return Error{500, "cannot read account state '" + path_ + "': " + std::strerror(errno)};
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const json j = json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Error{500, "account state '" + path_ + "' is not a JSON object"};
  records_.clear();
  for (const auto& [k, v] : j.items()) records_[k] = v.dump();
  loaded_ = true;
  return {};
}

Status JsonFileAccountStore::save() {
  json j = json::object();
  for (const auto& [k, v] : records_) j[k] = json::parse(v, nullptr, false);
  const std::string text = j.dump(2) + "\n";
  const std::string tmp = path_ + ".tmp";
  auto fail = [&](const char* what) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return Error{500, std::string("cannot ") + what + " account state '" + path_ + "': " + why};
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail("write");
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return fail("write");
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return fail("sync");
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path_.c_str()) != 0) return fail("replace");
  return {};
}

Result<std::vector<Record>> JsonFileAccountStore::load_all() {
  if (auto s = load_if_needed(); !s) return std::move(s).error();
  std::vector<Record> out;
  for (const auto& [k, v] : records_) out.push_back(Record{k, v});
  return out;
}

Status JsonFileAccountStore::put(const Record& record) {
  if (auto s = load_if_needed(); !s) return s;
  if (json::parse(record.json, nullptr, false).is_discarded())
    return Error{400, "account record '" + record.key + "' is not JSON"};
  auto old = records_.find(record.key);
  std::optional<std::string> before;
  if (old != records_.end()) before = old->second;
  records_[record.key] = record.json;
  if (auto s = save(); !s) {
    if (before)
      records_[record.key] = *before;
    else
      records_.erase(record.key);
    return s;
  }
  return {};
}

Status JsonFileAccountStore::remove(const std::string& key) {
  if (auto s = load_if_needed(); !s) return s;
  auto it = records_.find(key);
  if (it == records_.end()) return {};
  const std::string before = it->second;
  records_.erase(it);
  if (auto s = save(); !s) {
    records_[key] = before;
    return s;
  }
  return {};
}

Result<std::vector<Record>> ScopedAccountStore::load_all() {
  auto all = inner_.load_all();
  if (!all) return std::move(all).error();
  std::vector<Record> out;
  for (auto& r : *all) {
    if (!r.key.starts_with(prefix_)) continue;
    out.push_back(Record{r.key.substr(prefix_.size()), std::move(r.json)});
  }
  return out;
}

Status ScopedAccountStore::put(const Record& record) {
  return inner_.put(Record{prefix_ + record.key, record.json});
}

Status ScopedAccountStore::remove(const std::string& key) {
  return inner_.remove(prefix_ + key);
}

}  // namespace pulse::accounts
