#include "idle.h"

#include <poll.h>

#include <chrono>
#include <random>

#include "client/channel.h"
#include "run.h"

namespace pulse::perf {

using std::chrono::milliseconds;

Status IdleConnections::open(const PerfOptions& o, int n) {
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    auto c = connect(o, "pulse-perf idle " + std::to_string(i));
    if (!c) return std::move(c).error();
    auto ch = (*c)->open_channel();
    if (!ch) return std::move(ch).error();
    conns_.push_back(std::move(*c));
  }
  open_s_ = std::chrono::duration<double>(Clock::now() - t0).count();
  // One thread serves them all: poll for input (server heartbeats, closes) and let each
  // connection's pump answer heartbeats when due.
  pumper_ = std::thread([this] {
    std::vector<pollfd> fds;
    while (!stop_.load()) {
      fds.clear();
      for (auto& c : conns_) fds.push_back({c->is_open() ? c->fd() : -1, POLLIN, 0});
      ::poll(fds.data(), fds.size(), 200);
      for (size_t i = 0; i < conns_.size(); ++i) {
        if (conns_[i]->is_open()) (void)conns_[i]->pump(milliseconds(0));
      }
    }
  });
  return {};
}

void IdleConnections::stop() {
  stop_ = true;
  if (pumper_.joinable()) pumper_.join();
}

int IdleConnections::close_all() {
  stop();
  int lost = 0;
  for (auto& c : conns_) {
    if (!c->is_open() || !c->close()) ++lost;
  }
  conns_.clear();
  return lost;
}

Status IdleQueues::declare(const PerfOptions& o, int n) {
  auto conn = connect(o, "pulse-perf idle queues");
  if (!conn) return std::move(conn).error();
  auto ch = (*conn)->open_channel();
  if (!ch) return std::move(ch).error();
  std::random_device rd;
  const std::string prefix = "pulse-perf-idle-" + std::to_string(rd() % 1000000) + "-";
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    client::QueueOptions qo;
    qo.durable = o.persistent;
    std::string name = prefix + std::to_string(i);
    auto r = (*ch)->queue_declare(name, qo);
    if (!r) return std::move(r).error();
    names_.push_back(std::move(name));
  }
  declare_s_ = std::chrono::duration<double>(Clock::now() - t0).count();
  return (*conn)->close();
}

Status IdleQueues::remove(const PerfOptions& o) {
  if (names_.empty()) return {};
  auto conn = connect(o, "pulse-perf idle queues cleanup");
  if (!conn) return std::move(conn).error();
  auto ch = (*conn)->open_channel();
  if (!ch) return std::move(ch).error();
  for (const auto& name : names_) {
    if (auto r = (*ch)->queue_delete(name); !r) return std::move(r).error();
  }
  names_.clear();
  return (*conn)->close();
}

}  // namespace pulse::perf
