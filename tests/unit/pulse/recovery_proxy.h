#pragma once
// A TCP proxy in front of the broker that can stall the connections it carries (stop
// forwarding either way without closing): what a dead network path looks like, which only
// heartbeats detect. Connections made after a stall are forwarded normally. It can also cut
// every connection a fixed time after it was made (a flapping path).
#include <poll.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "recovery_broker.h"

namespace pulse::testing {

class StallProxy {
 public:
  explicit StallProxy(uint16_t target) : target_(target) {
    listen_ = bind_loopback(&port_, 16);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~StallProxy() {
    done_ = true;
    acceptor_.join();
    std::lock_guard lock(mu_);
    for (auto& l : links_) {
      l->thread.join();
      ::close(l->a);
      ::close(l->b);
    }
    ::close(listen_);
  }
  uint16_t port() const { return port_; }
  // Every connection open now stops forwarding (and stays open).
  void stall_existing() {
    std::lock_guard lock(mu_);
    for (auto& l : links_) l->stalled = true;
  }
  int accepted() const { return accepted_; }
  // Connections made from now on are closed (both ways) `after` they were made.
  void cut_after(std::chrono::milliseconds after) { cut_after_ = after.count(); }

 private:
  struct Link {
    int a = -1, b = -1;
    std::atomic<bool> stalled{false};
    std::thread thread;
  };

  void accept_loop() {
    while (!done_) {
      pollfd p{listen_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int a = ::accept(listen_, nullptr, nullptr);
      if (a < 0) continue;
      const int b = client::testing::connect_loopback(target_);
      if (b < 0) {
        ::close(a);
        continue;
      }
      ++accepted_;
      auto link = std::make_unique<Link>();
      link->a = a;
      link->b = b;
      Link* l = link.get();
      l->thread = std::thread([this, l] { forward(*l); });
      std::lock_guard lock(mu_);
      links_.push_back(std::move(link));
    }
  }

  void forward(Link& l) {
    char buf[65536];
    const long long cut = cut_after_;
    const auto made = std::chrono::steady_clock::now();
    while (!done_) {
      if (cut > 0 && std::chrono::steady_clock::now() - made >= std::chrono::milliseconds(cut)) {
        ::shutdown(l.a, SHUT_RDWR);
        ::shutdown(l.b, SHUT_RDWR);
        return;
      }
      if (l.stalled) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      pollfd p[2] = {{l.a, POLLIN, 0}, {l.b, POLLIN, 0}};
      if (::poll(p, 2, 50) <= 0) continue;
      for (int i = 0; i < 2; ++i) {
        if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        const ssize_t n = ::read(p[i].fd, buf, sizeof buf);
        if (n <= 0) {  // one side ended: end both
          ::shutdown(l.a, SHUT_RDWR);
          ::shutdown(l.b, SHUT_RDWR);
          return;
        }
        const int to = i == 0 ? l.b : l.a;
        for (ssize_t off = 0; off < n;) {
          const ssize_t w = ::write(to, buf + off, size_t(n - off));
          if (w <= 0) return;
          off += w;
        }
      }
    }
  }

  uint16_t target_;
  uint16_t port_ = 0;
  int listen_ = -1;
  std::atomic<bool> done_{false};
  std::atomic<int> accepted_{0};
  std::atomic<long long> cut_after_{0};
  std::mutex mu_;
  std::vector<std::unique_ptr<Link>> links_;
  std::thread acceptor_;
};

}  // namespace pulse::testing
