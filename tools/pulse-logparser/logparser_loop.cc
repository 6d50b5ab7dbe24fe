#include "logparser_loop.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdio>
#include <unordered_map>

#include "pulse/backoff.h"
#include "pulse/publisher.h"
#include "work_pool.h"

namespace pulse::tools {

namespace {

std::atomic<bool> g_stop{false};

// Log text is not always UTF-8: invalid bytes become U+FFFD rather than failing the dump.
std::string to_text(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ConsumerOptions consumer_options(const LogparserArgs& a) {
  ConsumerOptions o;
  o.recovery.endpoints = a.endpoints;
  for (const std::string& t : a.topics) o.bindings.push_back({a.exchange, t});
  o.user = a.queue_user;
  // A dry run without --queue reads from a temporary queue of its own, so trying the tool out
  // takes nothing from the service's queue.
  o.durable = !a.dry_run || a.queue_given;
  o.applabel = o.durable ? a.applabel : std::string();
  o.prefetch = a.prefetch;
  o.manual_ack = true;
  o.give_up = GiveUp::kLog;
  return o;
}

// The main thread's state: inputs to settle once their summary is out.
struct Loop {
  const LogparserArgs& args;
  Consumer& consumer;
  Publisher* publisher;  // null in a dry run
  logparser::WorkPool& pool;
  // Inputs with a job under way, by Task::input: every delivery of one input waits for the
  // same summary (a copy redelivered after a reconnect joins the job instead of starting one).
  std::unordered_map<std::string, std::vector<DeliveryRef>> inflight{};
  std::unordered_map<uint64_t, std::vector<DeliveryRef>> unconfirmed{};  // ticket -> inputs
  std::vector<DeliveryRef> to_ack{}, to_requeue{};
  // Inputs whose summary could not be published, given back only after a back-off: a broker
  // that keeps refusing (no write permission, an output exchange of another type) would
  // otherwise have each input fetched, parsed and refused again at once, without end. Held
  // inputs count against the prefetch, so while they wait no new work comes either.
  std::vector<DeliveryRef> held{};
  Backoff retry{{std::chrono::milliseconds(1000), std::chrono::milliseconds(60000), 2.0, 0.2}};
  std::chrono::steady_clock::time_point hold_until{};
  uint64_t sent = 0, published = 0, failed = 0;

  void hold(const std::vector<DeliveryRef>& refs) {
    if (held.empty()) hold_until = std::chrono::steady_clock::now() + retry.next();
    held.insert(held.end(), refs.begin(), refs.end());
  }

  // True when the input starts a job; false when it joins one under way.
  bool admit(const std::string& input, const DeliveryRef& ref) {
    auto [it, fresh] = inflight.try_emplace(input);
    it->second.push_back(ref);
    return fresh;
  }

  void hand_out(std::vector<logparser::Done> done) {
    for (logparser::Done& d : done) {
      std::vector<DeliveryRef> refs;
      if (auto it = inflight.find(d.input); it != inflight.end()) {
        refs = std::move(it->second);
        inflight.erase(it);
      }
      if (d.payload.is_null()) {
        hold(refs);
        continue;
      }
      if (!publisher) {
        const std::string line = to_text(d.payload) + "\n";
        std::fputs(line.c_str(), stdout);
        std::fflush(stdout);
        to_ack.insert(to_ack.end(), refs.begin(), refs.end());
        continue;
      }
      auto ticket = publisher->send(args.output_exchange, d.routing_key, to_text(d.payload),
                                    /*envelope=*/true);
      if (!ticket) {
        spdlog::error("logparser: event=publish_failed routing_key={} error=\"{}\"", d.routing_key,
                      ticket.error().text);
        hold(refs);
        continue;
      }
      ++sent;
      unconfirmed.emplace(*ticket, std::move(refs));
    }
  }

  void on_outcome(uint64_t ticket, const Status& st) {
    const auto it = unconfirmed.find(ticket);
    if (it == unconfirmed.end()) return;
    auto& refs = it->second;
    if (st) {
      ++published;
      retry.reset();
      to_ack.insert(to_ack.end(), refs.begin(), refs.end());
    } else {
      // Requeued after the back-off, the input is parsed and published again (a broker that
      // refused it, or confirms for the publisher's whole deadline).
      ++failed;
      spdlog::error("logparser: event=publish_failed error=\"{}\"", st.error().text);
      hold(refs);
    }
    unconfirmed.erase(it);
  }

  // `all`: at the end, held inputs go back at once.
  void settle(bool all = false) {
    if (!held.empty() && (all || std::chrono::steady_clock::now() >= hold_until)) {
      spdlog::info("logparser: event=requeue count={} reason=\"retrying after a failure\"",
                   held.size());
      to_requeue.insert(to_requeue.end(), held.begin(), held.end());
      held.clear();
    }
    for (const DeliveryRef& r : to_ack) {
      // A delivery of a lost connection: the broker has it again (its new copy, if it came
      // while the job ran, is among these refs).
      if (auto st = consumer.ack(r); !st) {
        spdlog::debug("logparser: event=ack_stale error=\"{}\"", st.error().text);
      }
    }
    for (const DeliveryRef& r : to_requeue) (void)consumer.requeue(r);
    to_ack.clear();
    to_requeue.clear();
  }
};

}  // namespace

void request_logparser_stop() {
  g_stop.store(true, std::memory_order_relaxed);
}

int run_logparser(const LogparserArgs& args) {
  std::unique_ptr<Publisher> publisher;
  if (!args.dry_run) {
    PublisherOptions po;
    po.recovery.endpoints = args.endpoints;
    announce_recovery(po.recovery, "pulse-logparser");
    publisher = std::make_unique<Publisher>(po);
  }
  logparser::WorkPool pool(args.jobs, args.fetch, args.parser);
  std::vector<DeliveryRef> bad;
  Loop* loop_ptr = nullptr;  // set once the loop exists, before the first delivery
  ConsumerOptions co = consumer_options(args);
  announce_recovery(co.recovery, "pulse-logparser");
  std::string queue_name;
  co.recovery.on_connected = [&queue_name](const client::ConnectionOptions& endpoint) {
    spdlog::info("logparser: event=consuming queue={} broker={}", queue_name, host_port(endpoint));
  };
  Consumer consumer(co, [&](const Received& r) -> Status {
    const std::string key(r.raw.routing_key);
    if (!r.envelope) {
      spdlog::warn("logparser: event=bad_message routing_key={} error=\"{}\"", key, r.parse_error);
      bad.push_back(r.ref);
      return {};
    }
    auto job = logparser::job_from_normalized(r.envelope->payload, key);
    if (!job) {
      spdlog::warn("logparser: event=bad_message routing_key={} error=\"{}\"", key,
                   job.error().text);
      bad.push_back(r.ref);
      return {};
    }
    std::string input = key;
    input += '\n';
    input += r.raw.body;
    if (!loop_ptr->admit(input, r.ref)) {
      spdlog::debug("logparser: event=joined_job routing_key={}", key);
      return {};
    }
    pool.submit({std::move(input), std::move(*job)});
    return {};
  });
  queue_name = consumer.queue_name();
  Loop loop{args, consumer, publisher.get(), pool};
  loop_ptr = &loop;
  if (publisher) {
    publisher->on_outcome([&loop](uint64_t t, const Status& st) { loop.on_outcome(t, st); });
  }
  spdlog::info("logparser: event=start queue={} exchange={} output={} jobs={} dry_run={}",
               consumer.queue_name(), args.exchange, args.output_exchange, args.jobs, args.dry_run);
  int rc = kExitOk;
  while (!g_stop.load(std::memory_order_relaxed)) {
    const bool busy = pool.outstanding() > 0 || !loop.unconfirmed.empty();
    if (auto st = consumer.run_for(std::chrono::milliseconds(busy ? 20 : 200)); !st) {
      spdlog::error("logparser: {}", st.error().text);
      rc = kExitFailure;
      break;
    }
    loop.to_ack.insert(loop.to_ack.end(), bad.begin(), bad.end());
    bad.clear();
    loop.hand_out(pool.take_done());
    // Once connected the publisher is pumped every turn, for its confirms and so that its
    // heartbeats go out while no summary is due.
    if (publisher && loop.sent > 0) publisher->poll(std::chrono::milliseconds(0));
    loop.settle();
  }
  // Jobs not started stay unacked (the broker delivers them again); those under way finish and
  // their summaries still go out and are confirmed before their inputs are acked.
  pool.stop();
  loop.hand_out(pool.take_done());
  if (publisher) (void)publisher->wait();
  loop.settle(/*all=*/true);
  (void)consumer.run_for(std::chrono::milliseconds(0));
  spdlog::info("logparser: event=stop published={} failed={} acked={} reconnects={}",
               loop.published, loop.failed, consumer.stats().acked, consumer.stats().reconnects);
  return rc;
}

}  // namespace pulse::tools
