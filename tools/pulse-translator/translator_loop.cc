#include "translator_loop.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "log_check.h"
#include "normalize.h"
#include "pulse/envelope.h"
#include "pulse/publisher.h"
#include "spool.h"

namespace pulse::tools {
namespace {

using nlohmann::json;
using translator::Outcome;

constexpr const char* kProgram = "pulse-translator";
constexpr std::chrono::milliseconds kProbeTimeout{10000};
constexpr int64_t kRepublishDelay = 5;  // seconds before a failed publish is tried again

std::atomic<bool> g_stop{false};
std::atomic<Consumer*> g_consumer{nullptr};

int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One structured log line: "pulse-translator: event=<event> k=v ..." (values with spaces quoted).
void log_event(std::string_view event,
               std::initializer_list<std::pair<std::string_view, std::string>> fields) {
  std::string line = "event=" + std::string(event);
  for (const auto& [k, v] : fields) {
    line += " " + std::string(k) + "=";
    line += v.find_first_of(" \"=") == std::string::npos && !v.empty() ? v : json(v).dump();
  }
  say(kProgram, line);
}

// Sleeps up to `seconds`, waking early on a stop request.
void pause_for(int seconds) {
  for (int i = 0; i < seconds * 10 && !g_stop.load(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// The body as pulsetranslator read it: the whole envelope ({_meta, payload}).
json message_of(const Received& r) {
  if (!r.envelope->wrapped) return r.envelope->payload;
  return json{{"_meta", r.envelope->meta}, {"payload", r.envelope->payload}};
}

void log_outcome(const std::string& key, const translator::NormalizeResult& res) {
  if (res.outcome == Outcome::kPublish && res.reason.empty()) return;
  log_event(
      translator::outcome_name(res.outcome),
      {{"key", key}, {"reason", res.reason}, {"outputs", std::to_string(res.outputs.size())}});
}

// Checks due log URLs and publishes what is ready, until stopped.
void publish_loop(const TranslatorArgs& a, translator::Spool& spool) {
  PublisherOptions po;
  po.recovery.endpoints = a.endpoints;
  po.deadline = std::chrono::seconds(20);
  announce_recovery(po.recovery, kProgram);
  Publisher pub(po);
  while (!g_stop.load()) {
    for (const std::string& id : spool.due(now_s())) {
      if (g_stop.load()) break;
      auto p = spool.get(id);
      if (!p) continue;
      const int64_t now = now_s();
      if (a.log_check) {
        auto probe = translator::probe_log(p->log_url, kProbeTimeout);
        if (!probe.ready) {
          if (now - p->received >= a.log_check_timeout.count()) {
            log_event("given_up", {{"key", p->input_key},
                                   {"log_url", p->log_url},
                                   {"last", probe.detail},
                                   {"waited_s", std::to_string(now - p->received)}});
            if (Status s = spool.finish(id); !s)
              log_event("state_error", {{"error", s.error().text}});
          } else {
            log_event("log_not_ready",
                      {{"key", p->input_key}, {"log_url", p->log_url}, {"status", probe.detail}});
            spool.reschedule(id, now + a.log_check_interval.count());
          }
          continue;
        }
      }
      bool all = true;
      for (size_t i = 0; i < p->outputs.size() && !g_stop.load(); ++i) {
        const auto& out = p->outputs[i];
        if (out.published) continue;
        Status s = pub.publish(a.output_exchange, out.routing_key, out.payload);
        if (!s) {
          log_event("publish_failed",
                    {{"routing_key", out.routing_key}, {"error", s.error().text}});
          spool.reschedule(id, now_s() + kRepublishDelay);
          all = false;
          break;
        }
        log_event("published", {{"routing_key", out.routing_key}, {"input", p->input_key}});
        if (Status m = spool.mark_published(id, i); !m) {
          log_event("state_error", {{"error", m.error().text}});
        }
      }
      if (all && !g_stop.load()) {
        if (Status s = spool.finish(id); !s) log_event("state_error", {{"error", s.error().text}});
      }
    }
    // Between rounds: keep the publisher's connection alive (heartbeats) while waiting.
    if (pub.stats().published > 0) {
      pub.poll(std::chrono::milliseconds(200));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  pub.close();
}

int run_consumer(const TranslatorArgs& a, MessageHandler handler) {
  ConsumerOptions options = translator_consumer_options(a);
  announce_recovery(options.recovery, kProgram);
  std::unique_ptr<Consumer> consumer;
  options.recovery.on_connected = [&consumer](const client::ConnectionOptions& endpoint) {
    say(kProgram, "consuming " + consumer->queue_name() + " (" + host_port(endpoint) + ")");
  };
  consumer = std::make_unique<Consumer>(std::move(options), std::move(handler));
  g_consumer.store(consumer.get());
  if (g_stop.load()) consumer->stop();
  const Status status = consumer->run();
  g_consumer.store(nullptr);
  if (!status) {
    say(kProgram, status.error().text);
    return kExitFailure;
  }
  return kExitOk;
}

int run_dry(const TranslatorArgs& a) {
  return run_consumer(a, [&](const Received& r) -> Status {
    const std::string key(r.raw.routing_key);
    if (!r.envelope) {
      log_event("bad", {{"key", key}, {"reason", "the body is not JSON"}});
      return ok_status();
    }
    auto res = translator::normalize(message_of(r), key, now_s());
    log_outcome(key, res);
    for (const auto& out : res.outputs) {
      json line = {
          {"exchange", a.output_exchange},
          {"routing_key", out.routing_key},
          {"log_url", out.log_url},
          {"body", json::parse(build_envelope(out.payload, a.output_exchange, out.routing_key))}};
      const std::string text = line.dump() + "\n";
      if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size()) {
        return Error{0, "stdout is closed"};
      }
    }
    std::fflush(stdout);
    return ok_status();
  });
}

}  // namespace

void request_translator_stop() {
  g_stop.store(true);
  if (Consumer* c = g_consumer.load()) c->stop();
}

int run_translator(const TranslatorArgs& a) {
  if (a.dry_run) return run_dry(a);
  auto opened = translator::Spool::open(a.state_dir);
  if (!opened) {
    say(kProgram, "--state-dir: " + opened.error().text);
    return kExitFailure;
  }
  translator::Spool& spool = **opened;
  log_event("started", {{"state_dir", a.state_dir},
                        {"pending", std::to_string(spool.pending_count())},
                        {"log_check", a.log_check ? "on" : "off"}});
  std::thread worker([&] { publish_loop(a, spool); });
  int rc = run_consumer(a, [&](const Received& r) -> Status {
    const std::string key(r.raw.routing_key);
    const std::string id = translator::input_id(key, r.raw.body);
    if (spool.seen(id)) {
      log_event("duplicate", {{"key", key}, {"id", id.substr(0, 16)}});
      return ok_status();
    }
    if (!r.envelope) {
      log_event("bad", {{"key", key}, {"reason", "the body is not JSON"}});
      return ok_status();
    }
    auto res = translator::normalize(message_of(r), key, now_s());
    log_outcome(key, res);
    if (res.outputs.empty()) return ok_status();
    if (spool.pending_count() >= a.max_pending) {
      // Back-pressure: the message goes back to the queue and comes again a moment later.
      pause_for(1);
      return Error{0, "the pending set is full"};
    }
    translator::Pending p;
    p.id = id;
    p.input_key = key;
    p.log_url = res.outputs.front().log_url;
    p.received = now_s();
    for (auto& out : res.outputs) p.outputs.push_back({out.routing_key, std::move(out.payload)});
    if (Status s = spool.add(std::move(p)); !s) {
      log_event("state_error", {{"error", s.error().text}});
      pause_for(1);
      return s;
    }
    log_event("queued", {{"key", key}, {"outputs", std::to_string(res.outputs.size())}});
    return ok_status();
  });
  g_stop.store(true);
  worker.join();
  return rc;
}

}  // namespace pulse::tools
