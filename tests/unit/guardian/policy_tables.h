#pragma once
// Shared by the policy tests: a fixed "now", compact observations and a one-line description
// of each action, so a table row states exactly what must come out.
#include <cstdio>
#include <string>
#include <vector>

#include "pulse/guardian/policy.h"

namespace pulse::guardian::test_support {

// 2026-12-05T11:00:00Z
inline const TimePoint kT0 = TimePoint(std::chrono::seconds(1796468400));

inline TimePoint at(int seconds) {
  return kT0 + std::chrono::seconds(seconds);
}

inline QueueInfo queue(std::string name, uint64_t messages, uint32_t consumers = 0,
                       std::string vhost = "/") {
  QueueInfo q;
  q.vhost = std::move(vhost);
  q.name = std::move(name);
  q.messages = messages;
  q.messages_ready = messages;
  q.consumers = consumers;
  return q;
}

inline ConnectionInfo connection(std::string name, std::string user, int connected_at) {
  return ConnectionInfo{std::move(name), std::move(user), "/", at(connected_at), "10.0.0.7:50000"};
}

// "DELETE / queue/a/q", "CLOSE c1",
// "warning queue/a/q owner=a messages=2001 rate=+380.2 consumers=0",
// "connection_closed c1 owner=bob age=259201"
inline std::string describe(const Action& a) {
  if (auto* d = std::get_if<DeleteQueue>(&a)) return "DELETE " + d->vhost + " " + d->name;
  if (auto* c = std::get_if<CloseConnection>(&a)) return "CLOSE " + c->name;
  const auto& n = std::get<Notice>(a);
  std::string s(event_name(n.event));
  const std::string owner = " owner=" + (n.owner ? *n.owner : std::string("_"));
  if (n.event == Event::kConnectionClosed) {
    return s + " " + n.connection + owner + " age=" + std::to_string(n.connection_age.count());
  }
  std::string rate = "none";
  if (n.growth_rate) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%+.1f", *n.growth_rate);
    rate = buf;
  }
  s += " " + n.queue + owner + " messages=" + std::to_string(n.messages) + " rate=" + rate +
       " consumers=" + std::to_string(n.consumers);
  if (n.event == Event::kIdleDeleted) s += " idle=" + std::to_string(n.idle_for.count());
  return s;
}

inline std::vector<std::string> describe(const std::vector<Action>& actions) {
  std::vector<std::string> out;
  for (const auto& a : actions) out.push_back(describe(a));
  return out;
}

}  // namespace pulse::guardian::test_support
