// A load run: setup, start consumers then producers, report every interval, stop, drain,
// verify, clean up, summarise.
#include <cstdio>
#include <functional>
#include <random>
#include <thread>

#include "body.h"
#include "idle.h"
#include "run.h"

namespace pulse::perf {

std::atomic<bool> g_interrupted{false};

namespace {

using std::chrono::duration;
using std::chrono::milliseconds;

struct Totals {
  uint64_t sent = 0, confirmed = 0, received = 0;
  HistogramSnapshot latency;
};

Totals totals(const Run& run) {
  Totals t;
  for (auto& p : run.producers) {
    t.sent += p->sent.get();
    t.confirmed += p->confirmed.get();
  }
  for (auto& c : run.consumers) {
    t.received += c->received.get();
    if (run.o.latency) t.latency.add(c->latency);
  }
  return t;
}

void progress_line(const Run& run, double elapsed, const Totals& now, const Totals& before,
                   double dt) {
  FILE* out = run.o.json ? stderr : stdout;
  std::fprintf(out, "time %.1fs  sent %.0f msg/s", elapsed, (now.sent - before.sent) / dt);
  if (run.o.confirm > 0) {
    std::fprintf(out, "  confirmed %.0f msg/s", (now.confirmed - before.confirmed) / dt);
  }
  std::fprintf(out, "  received %.0f msg/s", (now.received - before.received) / dt);
  if (run.o.latency) {
    const HistogramSnapshot h = now.latency.minus(before.latency);
    std::fprintf(out, "  latency p50 %.0f p95 %.0f p99 %.0f µs", h.percentile(0.5),
                 h.percentile(0.95), h.percentile(0.99));
  }
  std::fprintf(out, "\n");
  std::fflush(out);
}

bool all_done(const auto& states) {
  for (auto& s : states) {
    if (!s->done.load()) return false;
  }
  return true;
}

void wait_ready(Run& run, int n) {
  while (run.ready.load() < n && !run.abort.load()) std::this_thread::sleep_for(milliseconds(1));
}

// Producers with their tags, consumers spread over the queues, and a tracker per verified queue.
// A queue is verified when it has producers and consumers and consumers take everything.
void plan(Run& run, Summary& s, std::vector<std::vector<size_t>>& producers_of) {
  const PerfOptions& o = run.o;
  producers_of.assign(o.queues, {});
  for (size_t p = 0; p < run.producers.size(); ++p) {
    for (size_t q : run.producers[p]->queues) producers_of[q].push_back(p);
  }
  std::vector<bool> consumed(o.queues, false);
  for (int c = 0; c < o.consumers; ++c) {
    run.consumers.push_back(std::make_unique<ConsumerState>());
    run.consumers.back()->queue = static_cast<size_t>(c % o.queues);
    consumed[c % o.queues] = true;
  }
  s.verified = o.producers > 0 && o.consumers > 0 && o.consumer_messages == 0;
  for (int q = 0; q < o.queues; ++q) {
    const bool verify = s.verified && consumed[q] && !producers_of[q].empty();
    run.trackers.push_back(verify ? std::make_unique<QueueTracker>(run.producers.size()) : nullptr);
  }
}

// Idle queues and connections held open beside the load (memory per object scenarios).
void open_idle(Run& run, Summary& s, IdleQueues& idle_queues, IdleConnections& idle_conns) {
  const PerfOptions& o = run.o;
  if (o.idle_queues > 0) {
    if (auto st = idle_queues.declare(o, o.idle_queues); !st)
      run.fail("idle queues: " + st.error().text);
    s.idle_queues = o.idle_queues;
    s.idle_queue_declare_s = idle_queues.declare_seconds();
  }
  if (o.idle_connections > 0 && !run.abort) {
    if (auto st = idle_conns.open(o, o.idle_connections); !st) {
      run.fail("idle connection " + std::to_string(idle_conns.size()) + ": " + st.error().text);
    }
    s.idle_connections = idle_conns.size();
    s.idle_connect_s = idle_conns.open_seconds();
  }
}

// Reports every interval until the run's end condition; returns when producers should stop.
void drive(Run& run, Clock::time_point go) {
  const PerfOptions& o = run.o;
  Totals last = totals(run);
  auto last_t = go;
  const auto interval = duration<double>(o.interval);
  for (;;) {
    std::this_thread::sleep_for(milliseconds(20));
    const auto now = Clock::now();
    const double elapsed = duration<double>(now - go).count();
    if (now - last_t >= interval) {
      Totals t = totals(run);
      progress_line(run, elapsed, t, last, duration<double>(now - last_t).count());
      last = std::move(t);
      last_t = now;
    }
    if (run.abort || g_interrupted) break;
    if (o.seconds > 0 && elapsed >= o.seconds) break;
    const bool producers_done = o.producers > 0 && all_done(run.producers);
    const bool consumers_done = o.consumers > 0 && all_done(run.consumers);
    if (producers_done && (o.consumer_messages == 0 || consumers_done)) break;
    if (o.producers == 0 && o.consumer_messages > 0 && consumers_done) break;
  }
}

// Consumers keep going until every expected message arrived or nothing arrived for
// --drain-timeout seconds.
void drain(Run& run, const std::function<uint64_t()>& missing) {
  uint64_t seen = totals(run).received;
  auto progress_at = Clock::now();
  while (!run.abort && missing() > 0) {
    std::this_thread::sleep_for(milliseconds(50));
    const uint64_t r = totals(run).received;
    if (r != seen) {
      seen = r;
      progress_at = Clock::now();
    } else if (duration<double>(Clock::now() - progress_at).count() >= run.o.drain_timeout) {
      break;
    }
  }
}

// Counts, rates and verification results into the summary once every thread has stopped.
void summarise(Run& run, Summary& s, uint64_t go_ns, const std::function<uint64_t()>& missing) {
  const Totals end = totals(run);
  s.sent = end.sent;
  s.confirmed = end.confirmed;
  s.received = end.received;
  uint64_t last_receive_ns = 0;
  for (auto& p : run.producers) {
    s.nacked += p->nacked.get();
    s.returned += p->returned.get();
    s.unconfirmed += p->unconfirmed_at_end;
  }
  for (auto& c : run.consumers) {
    s.foreign += c->foreign.get();
    last_receive_ns = std::max(last_receive_ns, c->last_receive_ns.get());
  }
  if (s.duration_s > 0) {
    s.sent_rate = static_cast<double>(s.sent) / s.duration_s;
    s.confirmed_rate = static_cast<double>(s.confirmed) / s.duration_s;
  }
  if (last_receive_ns > go_ns) {
    s.received_rate = static_cast<double>(s.received) / ((last_receive_ns - go_ns) / 1e9);
  }
  if (run.o.latency) s.latency = end.latency;
  if (s.verified) {
    s.lost = missing();
    for (auto& t : run.trackers) {
      if (!t) continue;
      s.duplicated += t->duplicates();
      s.redelivered += t->redelivered();
      s.impossible += t->impossible();
    }
  }
  if (s.unconfirmed > 0) run.fail(std::to_string(s.unconfirmed) + " publishes never confirmed");
}

}  // namespace

int run_load(const PerfOptions& o) {
  Run run(o);
  Summary s;
  s.producers = o.producers;
  s.consumers = o.consumers;
  s.queues = o.queues;
  s.size = o.size;
  s.confirm = o.confirm;
  s.multi_ack = o.multi_ack;
  s.prefetch = o.prefetch;
  s.auto_ack = o.auto_ack;
  s.persistent = o.persistent;
  const double cpu0 = process_cpu_seconds();
  auto report = [&](Summary& sum) {
    sum.cpu_s = process_cpu_seconds() - cpu0;
    const uint64_t msgs = sum.sent + sum.received;
    sum.cpu_us_per_msg = msgs > 0 ? sum.cpu_s * 1e6 / static_cast<double>(msgs) : 0;
    for (auto& e : run.errors) sum.errors.push_back(e);
    o.json ? print_json(sum) : print_text(sum);
    return sum.ok() ? 0 : 1;
  };

  std::random_device rd;
  // Never 0: an all-zero body must not pass for producer 0's message.
  run.tag_base = 1 + rd() % (kMaxProducerTag - static_cast<uint32_t>(o.producers));
  for (int p = 0; p < o.producers; ++p) {
    run.producers.push_back(std::make_unique<ProducerState>());
    run.producers.back()->tag = run.tag_base + static_cast<uint32_t>(p);
  }
  if (auto st = setup_topology(run); !st) {
    run.fail("setup: " + st.error().text);
    return report(s);
  }
  std::vector<std::vector<size_t>> producers_of;
  plan(run, s, producers_of);
  IdleQueues idle_queues;
  IdleConnections idle_conns;
  open_idle(run, s, idle_queues, idle_conns);

  std::vector<std::thread> consumer_threads, producer_threads;
  for (size_t c = 0; c < run.consumers.size() && !run.abort; ++c) {
    consumer_threads.emplace_back(consumer_main, std::ref(run), c);
  }
  wait_ready(run, o.consumers);
  for (size_t p = 0; p < run.producers.size() && !run.abort; ++p) {
    producer_threads.emplace_back(producer_main, std::ref(run), p);
  }
  wait_ready(run, o.consumers + o.producers);

  const auto go = Clock::now();
  const uint64_t go_ns = run.now_ns();
  run.go.store(true, std::memory_order_release);
  drive(run, go);

  run.stop_producers = true;
  for (auto& t : producer_threads) t.join();
  auto produced_until = go;
  for (auto& p : run.producers) produced_until = std::max(produced_until, p->finished);
  s.duration_s = duration<double>((o.producers > 0 ? produced_until : Clock::now()) - go).count();

  std::vector<ProducerOutcome> outcomes;
  for (auto& p : run.producers) outcomes.push_back({p->sent.get(), p->nacked_ranges});
  const std::function<uint64_t()> missing = [&] {
    uint64_t m = 0;
    for (int q = 0; q < o.queues; ++q) {
      if (run.trackers[q]) m += run.trackers[q]->missing(producers_of[q], outcomes);
    }
    return m;
  };
  if (s.verified && !run.abort) drain(run, missing);
  run.stop_consumers = true;
  for (auto& t : consumer_threads) t.join();
  summarise(run, s, go_ns, missing);

  cleanup_topology(run);
  if (auto st = idle_queues.remove(o); !st) run.fail("idle queues cleanup: " + st.error().text);
  if (o.idle_connections > 0) s.idle_connections_lost = idle_conns.close_all();
  if (o.producers == 0 && o.consumers == 0) s.scenario = "connections";
  return report(s);
}

}  // namespace pulse::perf
