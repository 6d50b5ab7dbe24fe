#pragma once
// What the three session targets share: the in-process broker they serve (vhost "/", user
// guest/guest with every permission), the loopback client, and the steps around each input.
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "auth/auth_store.h"
#include "auth/failure_limiter.h"
#include "base/log.h"
#include "broker/broker.h"
#include "fuzz_check.h"
#include "server/loopback.h"

namespace pulse::fuzz {

struct SessionWorld {
  boost::asio::io_context io{1};
  broker::Broker broker;
  auth::AuthStore auth;
  auth::FailureLimiter failures{auth::FailureLimitOptions{}};
  std::unique_ptr<Loopback> client;
  uint64_t inputs = 0;

  SessionWorld() {
    set_log_level("none");
    broker.add_vhost("/");
    check(auth.add_user("guest", "guest", {"administrator"}).ok(), "add guest");
    check(auth.set_permissions("guest", "/", ".*", ".*", ".*").ok(), "permissions");
  }

  // After each input: from the first and then every 128 (so the replay tests run it too) a
  // fresh connection must get through its handshake (`healthy`); every 512 inputs vhost "/"
  // is made anew, so that what inputs declared (queues, exchanges, messages) does not pile up
  // over a long run (every connection is gone by then), and `healthy` is checked again.
  void after_input(const std::function<void()>& healthy) {
    if (++inputs % 128 == 1) healthy();
    if (inputs % 512 == 0) {
      broker.delete_vhost("/");
      broker.add_vhost("/");
      healthy();
    }
  }
};

// An input: byte 0 picks the target's options, the rest is the stream it sends.
struct Input {
  uint8_t opts = 0;
  std::string_view stream;
};

inline Input split_input(const uint8_t* data, size_t size) {
  Input in;
  if (size > 0) in.opts = data[0];
  if (size > 1) in.stream = std::string_view(reinterpret_cast<const char*>(data + 1), size - 1);
  return in;
}

}  // namespace pulse::fuzz
