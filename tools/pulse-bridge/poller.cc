#include "poller.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/log.h"
#include "pulse/backoff.h"

namespace pulse::bridge {
namespace {

using nlohmann::json;

std::string errno_text() {
  return std::strerror(errno);
}

Status write_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error{0, errno_text()};
    off += static_cast<size_t>(n);
  }
  return {};
}

}  // namespace

Status write_cursor(const std::string& path, const json& cursor) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Error{0, "cannot write " + tmp + ": " + errno_text()};
  Status st = write_all(fd, cursor.dump() + "\n");
  if (st && ::fsync(fd) != 0) st = Error{0, errno_text()};
  ::close(fd);
  if (!st) return Error{0, "cannot write " + tmp + ": " + st.error().text};
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return Error{0, "cannot rename " + tmp + " to " + path + ": " + errno_text()};
  // The rename itself is durable only once the directory is.
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

Result<json> read_cursor(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT) return json();
    return Error{0, "cannot read cursor file " + path + ": " + errno_text()};
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Error{0, "cursor file " + path +
                        " is damaged (not a JSON object); move it away to "
                        "start the source from its configured start"};
  return j;
}

Poller::Poller(const SourceConfig& source, std::string exchange, MessageSink& sink,
               SourceStats& stats, std::string cursor_path)
    : source_(source),
      exchange_(std::move(exchange)),
      stats_(stats),
      sink_(sink),
      cursor_path_(std::move(cursor_path)) {}

Poller::~Poller() {
  stop();
}

Status Poller::load() {
  auto url = mgmt::parse_url(source_.url);
  if (!url) return Error{0, "source '" + source_.name + "': " + url.error().text};
  client_ = std::make_unique<mgmt::HttpClient>(*url, "", "", source_.timeout);
  client_->set_user_agent("pulse-bridge");
  if (cursor_path_.empty()) return {};
  auto c = read_cursor(cursor_path_);
  if (!c) return Error{0, "source '" + source_.name + "': " + c.error().text};
  if (c->is_null()) return {};
  if (auto st = restore(*c); !st)
    return Error{
        0, "source '" + source_.name + "': cursor file " + cursor_path_ + ": " + st.error().text};
  spdlog::info("bridge: source={} event=cursor_loaded cursor={}", source_.name, c->dump());
  return {};
}

void Poller::start() {
  thread_ = std::thread([this] { run(); });
}

void Poller::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::vector<Status> Poller::publish(std::vector<Outgoing> messages) {
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::vector<Status> outcomes;
  };
  auto shared = std::make_shared<Shared>();
  sink_.submit(std::move(messages), [shared](std::vector<Status> outcomes) {
    std::lock_guard lock(shared->mu);
    shared->outcomes = std::move(outcomes);
    shared->done = true;
    shared->cv.notify_all();
  });
  // The sink settles every message, at the latest at the publish deadline.
  std::unique_lock lock(shared->mu);
  shared->cv.wait(lock, [&] { return shared->done; });
  return std::move(shared->outcomes);
}

Status Poller::save() {
  if (cursor_path_.empty()) return {};
  return write_cursor(cursor_path_, cursor());
}

void Poller::run() {
  BackoffOptions bo;
  bo.initial = std::min(source_.interval, std::chrono::milliseconds{5000});
  bo.max = std::max(bo.initial, source_.max_backoff);
  Backoff backoff(bo);
  unsigned failures = 0;
  spdlog::info("bridge: source={} event=polling url={} every_ms={}", source_.name, source_.url,
               source_.interval.count());
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stop_) break;
    }
    std::chrono::milliseconds wait = source_.interval;
    Result<bool> r = Error{0, ""};
    if (sink_.broker() == MessageSink::Broker::kDown) {
      r = Error{0, "the broker is unreachable"};
    } else {
      r = poll_once();
    }
    if (r) {
      stats_.success();
      if (failures > 0) {
        spdlog::info("bridge: source={} event=recovered failures={}", source_.name, failures);
      }
      failures = 0;
      backoff.reset();
      if (*r) wait = std::chrono::milliseconds{0};
    } else {
      stats_.error(r.error().text);
      wait = backoff.next();
      if (failures++ == 0) {
        spdlog::warn(
            "bridge: source={} event=poll_failed reason=\"{}\" retry_ms={} (retrying with "
            "back-off; logged once until it recovers)",
            source_.name, r.error().text, wait.count());
      } else {
        spdlog::debug("bridge: source={} event=poll_failed reason=\"{}\" retry_ms={}", source_.name,
                      r.error().text, wait.count());
      }
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, wait, [&] { return stop_; });
  }
}

Result<const json*> feed_items(const json& body, const std::string& items_field) {
  if (body.is_array() && items_field.empty()) return &body;
  const std::string field = items_field.empty() ? "items" : items_field;
  if (body.is_object()) {
    auto it = body.find(field);
    if (it != body.end() && it->is_array()) return &*it;
  }
  return Error{0, "the feed has no array of items (the body, or its \"" + field + "\" member)"};
}

std::string item_id(const json& item, const std::string& id_field) {
  if (!item.is_object()) return {};
  auto it = item.find(id_field);
  if (it == item.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return it->dump();
  return {};
}

}  // namespace pulse::bridge
