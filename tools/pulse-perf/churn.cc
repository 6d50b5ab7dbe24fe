// Churn scenarios: how many declare/delete, bind/unbind, connection or channel open/close
// operations per second the broker sustains. -x workers (at least one), each on its own
// connection, for -z seconds or -C cycles each.
#include <cstdio>
#include <random>
#include <thread>

#include "run.h"

namespace pulse::perf {

namespace {

using std::chrono::duration;
using std::chrono::milliseconds;

struct Worker {
  Counter ops;
  std::atomic<bool> done{false};
};

// One cycle of `kind`; adds the AMQP round trips it made to ops.
Status churn_cycle(const PerfOptions& o, const std::string& kind, client::Connection* conn,
                   client::Channel*& ch, const std::string& name, uint64_t i, Counter& ops) {
  if (kind == "declare") {
    client::QueueOptions qo;
    qo.durable = o.persistent;
    qo.arguments = o.queue_args;
    auto q = ch->queue_declare(name, qo);
    if (!q) return std::move(q).error();
    auto d = ch->queue_delete(name);
    if (!d) return std::move(d).error();
    ops.add(2);
  } else if (kind == "bind") {
    const std::string key = name + "." + std::to_string(i);
    if (auto st = ch->queue_bind(name, "amq.direct", key); !st) return st;
    if (auto st = ch->queue_unbind(name, "amq.direct", key); !st) return st;
    ops.add(2);
  } else if (kind == "connect") {
    auto c = connect(o, "pulse-perf churn");
    if (!c) return std::move(c).error();
    auto c2 = (*c)->open_channel();
    if (!c2) return std::move(c2).error();
    if (auto st = (*c)->close(); !st) return st;
    ops.add(1);
  } else if (kind == "channel") {
    auto c = conn->open_channel();
    if (!c) return std::move(c).error();
    if (auto st = (*c)->close(); !st) return st;
    ops.add(1);
  }
  return {};
}

}  // namespace

int run_churn(const PerfOptions& o) {
  const std::string kind = o.churn;
  Summary s;
  s.scenario = "churn-" + kind;
  s.producers = std::max(1, o.producers);
  const double cpu0 = process_cpu_seconds();
  std::mutex mu;
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::thread> threads;
  std::random_device rd;
  const std::string prefix = "pulse-perf-churn-" + std::to_string(rd() % 1000000) + "-";
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};

  for (int w = 0; w < s.producers; ++w) workers.push_back(std::make_unique<Worker>());
  for (int w = 0; w < s.producers; ++w) {
    threads.emplace_back([&, w] {
      Worker& me = *workers[w];
      auto fail = [&](const std::string& e) {
        std::lock_guard lock(mu);
        s.errors.push_back("worker " + std::to_string(w) + ": " + e);
        stop = true;
      };
      const std::string name = prefix + std::to_string(w);
      std::unique_ptr<client::Connection> conn;
      client::Channel* ch = nullptr;
      if (kind != "connect") {
        auto c = connect(o, "pulse-perf churn " + std::to_string(w));
        if (!c) {
          fail(c.error().text);
        } else {
          conn = std::move(*c);
          auto chr = conn->open_channel();
          if (!chr) {
            fail(chr.error().text);
          } else {
            ch = *chr;
            if (kind == "bind") {
              client::QueueOptions qo;
              qo.auto_delete = false;
              if (auto q = ch->queue_declare(name, qo); !q) fail(q.error().text);
            }
          }
        }
      }
      ready++;
      while (!go && !stop) std::this_thread::sleep_for(milliseconds(1));
      uint64_t i = 0;
      while (!stop && !g_interrupted && (o.producer_messages == 0 || i < o.producer_messages)) {
        if (auto st = churn_cycle(o, kind, conn.get(), ch, name, i++, me.ops); !st) {
          fail(st.error().text);
          break;
        }
      }
      if (kind == "bind" && ch != nullptr && ch->is_open()) (void)ch->queue_delete(name);
      if (conn) (void)conn->close();
      me.done = true;
    });
  }
  while (ready < s.producers) std::this_thread::sleep_for(milliseconds(1));
  const auto t0 = Clock::now();
  go = true;
  uint64_t last_ops = 0;
  auto last_t = t0;
  auto total = [&] {
    uint64_t n = 0;
    for (auto& w : workers) n += w->ops.get();
    return n;
  };
  for (;;) {
    std::this_thread::sleep_for(milliseconds(20));
    const auto now = Clock::now();
    const double elapsed = duration<double>(now - t0).count();
    if (now - last_t >= duration<double>(o.interval)) {
      const uint64_t n = total();
      std::fprintf(o.json ? stderr : stdout, "time %.1fs  %s %.0f ops/s\n", elapsed, kind.c_str(),
                   (n - last_ops) / duration<double>(now - last_t).count());
      last_ops = n;
      last_t = now;
    }
    bool done = true;
    for (auto& w : workers) done = done && w->done;
    if (done || stop || g_interrupted || (o.seconds > 0 && elapsed >= o.seconds)) break;
  }
  stop = true;
  for (auto& t : threads) t.join();
  s.duration_s = duration<double>(Clock::now() - t0).count();
  s.operations = total();
  s.operations_rate = s.duration_s > 0 ? s.operations / s.duration_s : 0;
  s.cpu_s = process_cpu_seconds() - cpu0;
  o.json ? print_json(s) : print_text(s);
  return s.ok() ? 0 : 1;
}

}  // namespace pulse::perf
