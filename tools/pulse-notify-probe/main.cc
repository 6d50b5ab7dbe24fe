// pulse-notify-probe --set pulse.smtp.KEY=VALUE... [--owner-email OWNER=ADDRESS...] < notices
// Reads guardian notices as JSON lines (the exchange payload's fields: event, vhost, owner,
// queue, messages, messages_ready, messages_unacknowledged, growth_rate, consumers, bindings
// [{exchange, routing_key}], warn_queue_size, delete_queue_size, unbounded; connection, user,
// peer, age_seconds, max_connection_age; operator_name, message), hands each to an
// SmtpNoticeSink, waits for the queue to drain and prints the sink's counts as one JSON line.
// Exit 0: every mail was taken; 1: some were not (the sink logs why on stderr); 2: bad settings
// or input. A test driver, not a tool.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "pulse/smtp/smtp_notice_sink.h"

using nlohmann::json;
using namespace pulse;
using guardian::Event;
using guardian::Notice;

namespace {

int usage_error(const std::string& text) {
  std::cout << json{{"error", text}}.dump() << "\n";
  return 2;
}

std::optional<Event> parse_event(const std::string& s) {
  static const std::map<std::string, Event> kEvents = {
      {"warning", Event::kWarning},
      {"back_to_normal", Event::kBackToNormal},
      {"deleted", Event::kDeleted},
      {"idle_deleted", Event::kIdleDeleted},
      {"connection_closed", Event::kConnectionClosed},
      {"operator", Event::kOperator}};
  auto it = kEvents.find(s);
  if (it == kEvents.end()) return std::nullopt;
  return it->second;
}

Notice parse_notice(const json& j) {
  Notice n;
  auto event = parse_event(j.value("event", std::string("warning")));
  if (!event) throw std::runtime_error("unknown event " + j.value("event", std::string()));
  n.event = *event;
  n.at = std::chrono::system_clock::now();
  n.vhost = j.value("vhost", std::string("/"));
  if (j.contains("owner") && !j["owner"].is_null()) n.owner = j["owner"].get<std::string>();
  n.queue = j.value("queue", std::string());
  n.messages = j.value("messages", uint64_t{0});
  n.messages_ready = j.value("messages_ready", n.messages);
  n.messages_unacknowledged = j.value("messages_unacknowledged", uint64_t{0});
  if (j.contains("growth_rate") && !j["growth_rate"].is_null()) {
    n.growth_rate = j["growth_rate"].get<double>();
  }
  n.consumers = j.value("consumers", uint32_t{0});
  for (const auto& b : j.value("bindings", json::array())) {
    n.bindings.push_back({b.value("exchange", std::string()), b.value("routing_key", "")});
  }
  n.thresholds.warn_queue_size = j.value("warn_queue_size", uint64_t{2000});
  n.thresholds.delete_queue_size = j.value("delete_queue_size", uint64_t{8000});
  n.unbounded = j.value("unbounded", false);
  n.idle_for = std::chrono::seconds(j.value("idle_seconds", int64_t{0}));
  n.idle_queue_expiry = std::chrono::seconds(j.value("idle_queue_expiry", int64_t{0}));
  n.connection = j.value("connection", std::string());
  n.user = j.value("user", std::string());
  n.peer = j.value("peer", std::string());
  n.connected_at = n.at - std::chrono::seconds(j.value("age_seconds", int64_t{0}));
  n.connection_age = std::chrono::seconds(j.value("age_seconds", int64_t{0}));
  n.max_connection_age = std::chrono::seconds(j.value("max_connection_age", int64_t{0}));
  n.operator_name = j.value("operator_name", std::string());
  n.message = j.value("message", std::string());
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Mails guardian notices (JSON lines on stdin) through SmtpNoticeSink"};
  std::vector<std::string> sets, owner_emails;
  smtp::SinkOptions options;
  int retry_delay_ms = 200;
  double wait_s = 120;
  int drain_ms = 0;
  app.add_option("--set", sets, "pulse.smtp.KEY=VALUE, as in the config file");
  app.add_option("--owner-email", owner_emails, "OWNER=ADDRESS, what the owner lookup answers");
  app.add_option("--attempts", options.max_attempts, "attempts per mail");
  app.add_option("--retry-delay-ms", retry_delay_ms, "delay before the first retry");
  app.add_option("--capacity", options.queue_capacity, "queue capacity");
  app.add_option("--wait", wait_s, "seconds to wait for the queue to drain");
  app.add_option("--shutdown-drain-ms", drain_ms,
                 "then, how long the sink's destructor lets queued mails go out");
  CLI11_PARSE(app, argc, argv);
  options.first_retry_delay = std::chrono::milliseconds(retry_delay_ms);
  options.shutdown_drain = std::chrono::milliseconds(drain_ms);
  // stdout is the JSON result's; the sink's log goes to stderr.
  spdlog::set_default_logger(spdlog::stderr_color_mt("probe"));
  init_logging();

  smtp::SmtpSettings settings;
  for (const auto& s : sets) {
    const auto eq = s.find('=');
    if (eq == std::string::npos) return usage_error("--set " + s + ": expected KEY=VALUE");
    if (auto st = smtp::apply_setting(settings, s.substr(0, eq), s.substr(eq + 1)); !st) {
      return usage_error(st.error().text);
    }
  }
  if (auto st = smtp::validate(settings); !st) return usage_error(st.error().text);
  if (!settings.enabled()) return usage_error("pulse.smtp.host is not set: email is off");
  std::map<std::string, std::string> emails;
  for (const auto& o : owner_emails) {
    const auto eq = o.find('=');
    if (eq == std::string::npos) return usage_error("--owner-email " + o + ": expected O=ADDR");
    emails[o.substr(0, eq)] = o.substr(eq + 1);
  }

  std::vector<Notice> notices;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      notices.push_back(parse_notice(json::parse(line)));
    } catch (const std::exception& e) {
      return usage_error("bad notice line: " + std::string(e.what()));
    }
  }

  json recipients = json::array();
  const auto started = std::chrono::steady_clock::now();
  smtp::SinkStats stats;
  bool idle = false;
  {
    smtp::SmtpNoticeSink sink(
        settings,
        [&emails](const std::string& owner) -> std::optional<std::string> {
          auto it = emails.find(owner);
          if (it == emails.end()) return std::nullopt;
          return it->second;
        },
        options);
    for (const auto& n : notices) {
      recipients.push_back(sink.recipients_for(n));
      sink.send(n);
    }
    idle = sink.wait_idle(std::chrono::milliseconds(static_cast<int64_t>(wait_s * 1000)));
    stats = sink.stats();
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << json{{"queued", stats.queued},
                    {"sent", stats.sent},
                    {"failed", stats.failed},
                    {"dropped_overflow", stats.dropped_overflow},
                    {"no_recipient", stats.no_recipient},
                    {"refused_recipients", stats.refused_recipients},
                    {"pending", stats.pending},
                    {"drained", idle},
                    {"seconds", elapsed},
                    {"recipients", recipients},
                    {"last_error", stats.last_error}}
                   .dump()
            << "\n";
  const bool all_sent =
      idle && stats.failed == 0 && stats.dropped_overflow == 0 && stats.sent == stats.queued;
  return all_sent ? 0 : 1;
}
