#include "summary.h"

#include <sys/resource.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

namespace pulse::perf {

double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

void print_text(const Summary& s) {
  std::printf("summary (%s): %.2f s\n", s.scenario.c_str(), s.duration_s);
  if (s.scenario == "load") {
    std::printf("  sent       %12llu msgs  %12.0f msg/s\n", static_cast<unsigned long long>(s.sent),
                s.sent_rate);
    if (s.confirm > 0) {
      std::printf("  confirmed  %12llu msgs  %12.0f msg/s  (nacked %llu, unconfirmed %llu)\n",
                  static_cast<unsigned long long>(s.confirmed), s.confirmed_rate,
                  static_cast<unsigned long long>(s.nacked),
                  static_cast<unsigned long long>(s.unconfirmed));
    }
    if (s.returned > 0) {
      std::printf("  returned   %12llu msgs\n", static_cast<unsigned long long>(s.returned));
    }
    std::printf("  received   %12llu msgs  %12.0f msg/s\n",
                static_cast<unsigned long long>(s.received), s.received_rate);
    if (s.latency) {
      const auto& h = *s.latency;
      std::printf("  latency    min %.0f  p50 %.0f  p75 %.0f  p95 %.0f  p99 %.0f  max %.0f µs\n",
                  h.min(), h.percentile(0.5), h.percentile(0.75), h.percentile(0.95),
                  h.percentile(0.99), h.max());
    }
    if (s.verified) {
      std::printf("  verified   lost %llu, duplicated %llu, redelivered %llu, foreign %llu%s\n",
                  static_cast<unsigned long long>(s.lost),
                  static_cast<unsigned long long>(s.duplicated),
                  static_cast<unsigned long long>(s.redelivered),
                  static_cast<unsigned long long>(s.foreign),
                  s.impossible ? ", impossible sequence numbers!" : "");
    } else {
      std::printf("  verified   no (needs producers and consumers on every queue, no -D)\n");
    }
  } else if (s.scenario != "connections") {
    std::printf("  operations %12llu       %12.0f ops/s\n",
                static_cast<unsigned long long>(s.operations), s.operations_rate);
  }
  if (s.idle_queues > 0) {
    std::printf("  idle queues %d declared in %.2f s\n", s.idle_queues, s.idle_queue_declare_s);
  }
  if (s.idle_connections > 0) {
    std::printf("  idle connections %d opened in %.2f s (%.0f/s), %d lost\n", s.idle_connections,
                s.idle_connect_s, s.idle_connect_s > 0 ? s.idle_connections / s.idle_connect_s : 0,
                s.idle_connections_lost);
  }
  if (s.sent + s.received > 0) {
    std::printf("  client cpu %.2f s (%.3f µs per message sent or received)\n", s.cpu_s,
                s.cpu_us_per_msg);
  } else {
    std::printf("  client cpu %.2f s\n", s.cpu_s);
  }
  for (const auto& e : s.errors) std::printf("  error: %s\n", e.c_str());
  std::printf("%s\n", s.ok() ? "OK" : "FAILED");
  std::fflush(stdout);
}

void print_json(const Summary& s) {
  nlohmann::json j;
  j["scenario"] = s.scenario;
  j["ok"] = s.ok();
  j["settings"] = {
      {"producers", s.producers}, {"consumers", s.consumers}, {"queues", s.queues},
      {"size", s.size},           {"confirm", s.confirm},     {"multi_ack", s.multi_ack},
      {"prefetch", s.prefetch},   {"auto_ack", s.auto_ack},   {"persistent", s.persistent}};
  j["duration_s"] = s.duration_s;
  j["sent"] = s.sent;
  j["sent_rate"] = s.sent_rate;
  j["confirmed"] = s.confirmed;
  j["confirmed_rate"] = s.confirmed_rate;
  j["nacked"] = s.nacked;
  j["unconfirmed"] = s.unconfirmed;
  j["returned"] = s.returned;
  j["received"] = s.received;
  j["received_rate"] = s.received_rate;
  j["verified"] = s.verified;
  j["lost"] = s.lost;
  j["duplicated"] = s.duplicated;
  j["redelivered"] = s.redelivered;
  j["foreign"] = s.foreign;
  j["impossible"] = s.impossible;
  if (s.latency) {
    const auto& h = *s.latency;
    j["latency_us"] = {{"samples", h.total()},        {"min", h.min()},
                       {"p50", h.percentile(0.5)},    {"p75", h.percentile(0.75)},
                       {"p95", h.percentile(0.95)},   {"p99", h.percentile(0.99)},
                       {"p999", h.percentile(0.999)}, {"max", h.max()}};
  } else {
    j["latency_us"] = nullptr;
  }
  j["operations"] = s.operations;
  j["operations_rate"] = s.operations_rate;
  j["idle_connections"] = s.idle_connections;
  j["idle_connections_lost"] = s.idle_connections_lost;
  j["idle_connect_s"] = s.idle_connect_s;
  j["idle_queues"] = s.idle_queues;
  j["idle_queue_declare_s"] = s.idle_queue_declare_s;
  j["cpu_s"] = s.cpu_s;
  j["cpu_us_per_msg"] = s.cpu_us_per_msg;
  j["errors"] = s.errors;
  std::cout << j.dump() << std::endl;
}

}  // namespace pulse::perf
