#include "stats.h"

#include <chrono>

namespace pulse::bridge {
namespace {

int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A label value in the text format: backslash, double quote and newline escaped.
std::string label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

void SourceStats::success() {
  last_success = now_s();
}

void SourceStats::error(const std::string& what) {
  ++errors;
  std::lock_guard lock(mu_);
  last_error_ = what;
  last_error_at_ = now_s();
}

bool SourceStats::healthy() const {
  std::lock_guard lock(mu_);
  return last_error_at_ == 0 || last_success.load() >= last_error_at_;
}

nlohmann::json SourceStats::health() const {
  nlohmann::json j = {{"name", name},
                      {"type", type},
                      {"exchange", exchange},
                      {"published", published.load()},
                      {"refused", refused.load()},
                      {"errors", errors.load()},
                      {"polls", polls.load()},
                      {"filtered", filtered.load()},
                      {"last_success", last_success.load() ? nlohmann::json(last_success.load())
                                                           : nlohmann::json()}};
  std::lock_guard lock(mu_);
  j["last_error"] = last_error_.empty() ? nlohmann::json() : nlohmann::json(last_error_);
  j["last_error_at"] = last_error_at_ ? nlohmann::json(last_error_at_) : nlohmann::json();
  j["status"] = (last_error_at_ == 0 || last_success.load() >= last_error_at_) ? "ok" : "failing";
  return j;
}

SourceStats& StatsRegistry::add(const SourceConfig& s, const std::string& exchange) {
  auto st = std::make_unique<SourceStats>();
  st->name = s.name;
  st->type = std::string(type_name(s.type));
  st->exchange = exchange;
  auto& ref = *st;
  sources_[s.name] = std::move(st);
  return ref;
}

SourceStats* StatsRegistry::find(const std::string& name) {
  auto it = sources_.find(name);
  return it == sources_.end() ? nullptr : it->second.get();
}

nlohmann::json StatsRegistry::health(MessageSink::Broker broker) const {
  nlohmann::json sources = nlohmann::json::object();
  bool ok = broker != MessageSink::Broker::kDown;
  for (const auto& [name, s] : sources_) {
    sources[name] = s->health();
    if (!s->healthy()) ok = false;
  }
  return {{"status", ok ? "ok" : "degraded"},
          {"broker", std::string(broker_name(broker))},
          {"sources", sources}};
}

std::string StatsRegistry::metrics(MessageSink::Broker broker) const {
  std::string out;
  auto family = [&](const char* metric, const char* type, const char* help, auto value) {
    out += std::string("# HELP ") + metric + " " + help + "\n# TYPE " + metric + " " + type + "\n";
    for (const auto& [name, s] : sources_) {
      out += std::string(metric) + "{source=\"" + label(name) + "\",type=\"" + label(s->type) +
             "\"} " + std::to_string(value(*s)) + "\n";
    }
  };
  family("pulse_bridge_published_total", "counter",
         "Messages published and confirmed by the broker.",
         [](const SourceStats& s) { return s.published.load(); });
  family("pulse_bridge_refused_total", "counter",
         "Requests refused (signature, token, body, routing key).",
         [](const SourceStats& s) { return s.refused.load(); });
  family("pulse_bridge_errors_total", "counter",
         "Failed polls and messages the broker did not confirm.",
         [](const SourceStats& s) { return s.errors.load(); });
  family("pulse_bridge_polls_total", "counter", "Successful polls of a feed.",
         [](const SourceStats& s) { return s.polls.load(); });
  family("pulse_bridge_filtered_total", "counter",
         "Events not published: private Bugzilla data, GitHub events not configured.",
         [](const SourceStats& s) { return s.filtered.load(); });
  family("pulse_bridge_last_success_timestamp_seconds", "gauge",
         "When the source last published or polled successfully (0: never).",
         [](const SourceStats& s) { return s.last_success.load(); });
  out +=
      "# HELP pulse_bridge_broker_up Whether the AMQP connection is up (1), down (0) or not "
      "used (dry run: 1).\n# TYPE pulse_bridge_broker_up gauge\npulse_bridge_broker_up " +
      std::string(broker == MessageSink::Broker::kDown ? "0" : "1") + "\n";
  return out;
}

}  // namespace pulse::bridge
