// pulse-bridge's parsing of what comes in (tools/pulse-bridge): webhook requests through the
// real Ingress (a GitHub source whose signature the harness computes, so bodies get past the
// HMAC check; a generic publish source and a Bugzilla source with their bearer tokens), the
// items of a JSON feed and hg pushlog replies as the pollers read them, and the bridge's config
// file. The first input byte picks which; then lines (see each case), the rest is the body.
//
// Checks: every request is answered once, with a valid status and a JSON body; every message
// the sink receives is a Pulse envelope ({"payload", "_meta"} with the exchange and routing
// key it is published with) and its routing key is non-empty.
#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bridge_config.h"
#include "events.h"
#include "fuzz_check.h"
#include "httpd/message.h"
#include "ingress.h"
#include "poller.h"
#include "pulse/envelope.h"
#include "sink.h"
#include "stats.h"

namespace {

using nlohmann::json;
using pulse::fuzz::check;
namespace bridge = pulse::bridge;

constexpr const char* kConfig =
    "pulse.bridge.sources.gh.type = github\n"
    "pulse.bridge.sources.gh.secret = hook-secret\n"
    "pulse.bridge.sources.gh.events = issues,pull_request,release\n"
    "pulse.bridge.sources.pub.type = publish\n"
    "pulse.bridge.sources.pub.secret = pub-token\n"
    "pulse.bridge.sources.bz.type = bugzilla\n"
    "pulse.bridge.sources.bz.secret = bz-token\n";

void check_envelope(const bridge::Outgoing& m) {
  check(!m.routing_key.empty(), "a message has a routing key");
  json j = json::parse(m.body, nullptr, false);
  check(j.is_object() && j.contains("payload") && j.contains("_meta"), "an envelope");
  const json& meta = j["_meta"];
  check(meta.value("exchange", "") == m.exchange, "_meta.exchange is the exchange");
  check(meta.value("routing_key", "") == m.routing_key, "_meta.routing_key is the key");
}

// Confirms every message at once, after checking it.
class CheckingSink : public bridge::MessageSink {
 public:
  void submit(std::vector<bridge::Outgoing> messages, bridge::BatchDone done) override {
    for (const auto& m : messages) check_envelope(m);
    done(std::vector<pulse::Status>(messages.size()));
  }
  Broker broker() const override { return Broker::kUp; }
};

struct Bridge {
  boost::asio::io_context io;
  bridge::BridgeConfig config;
  CheckingSink sink;
  bridge::StatsRegistry stats;
  std::optional<bridge::Ingress> ingress;

  Bridge() {
    auto c = bridge::parse_bridge_config(
        kConfig, "fuzz", [](const std::string&) { return static_cast<const char*>(nullptr); });
    check(c.ok(), "the harness's config parses");
    config = std::move(*c);
    std::map<std::string, std::string> exchanges;
    for (const auto& s : config.sources) {
      exchanges[s.name] = bridge::default_exchange(s, "fuzzer");
      stats.add(s, exchanges[s.name]);
    }
    ingress.emplace(io, config, std::move(exchanges), sink, stats);
  }
};

Bridge& the_bridge() {
  static Bridge* b = [] {
    spdlog::set_level(spdlog::level::off);
    return new Bridge();
  }();
  return *b;
}

std::string take_line(std::string_view& rest) {
  size_t nl = rest.find('\n');
  std::string line(rest.substr(0, nl));
  rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  return line;
}

void request(uint8_t kind, std::string_view rest) {
  Bridge& b = the_bridge();
  pulse::httpd::Request req;
  req.method = "POST";
  std::string target;
  switch (kind) {
    case 0: {  // github: event line, then the body (signed correctly unless the event is "")
      std::string event = take_line(rest);
      target = "/hooks/gh";
      req.body = std::string(rest);
      req.headers["x-github-event"] = event;
      req.headers["x-github-delivery"] = "d-1";
      if (!event.empty())
        req.headers["x-hub-signature-256"] =
            "sha256=" + bridge::hmac_sha256_hex("hook-secret", req.body);
      break;
    }
    case 1: {  // publish: routing key line, then the body
      std::string key = take_line(rest);
      target = "/publish/pub";
      req.authorization = "Bearer pub-token";
      req.headers["x-pulse-routing-key"] = key;
      req.body = std::string(rest);
      break;
    }
    case 2:  // bugzilla: the body
      target = "/bugzilla/bz";
      req.authorization = "Bearer bz-token";
      req.body = std::string(rest);
      break;
    default: {  // anything: method line, target line, Authorization line, body
      req.method = take_line(rest);
      target = take_line(rest);
      req.authorization = take_line(rest);
      req.body = std::string(rest);
      break;
    }
  }
  if (!pulse::httpd::parse_target(target, req)) return;
  req.target = target;
  int answers = 0;
  b.ingress->handle(std::move(req), [&](pulse::httpd::Response r) {
    ++answers;
    check(r.status >= 100 && r.status <= 599, "valid status");
    if (r.content_type == "application/json")
      check(!json::parse(r.body, nullptr, false).is_discarded(), "a JSON body");
  });
  b.io.restart();
  b.io.poll();
  check(answers == 1, "answered once");
}

void feed(std::string_view rest) {
  std::string items_field = take_line(rest);
  std::string id_field = take_line(rest);
  json body = json::parse(rest, nullptr, false);
  if (body.is_discarded()) return;
  auto items = bridge::feed_items(body, items_field);
  if (!items) return;
  check((*items)->is_array(), "feed items are an array");
  for (const json& it : **items) {
    std::string id = bridge::item_id(it, id_field.empty() ? "id" : id_field);
    if (id.empty()) continue;
    bridge::Outgoing m{"exchange/fuzzer/feed", "feed",
                       pulse::build_envelope(it, "exchange/fuzzer/feed", "feed")};
    check_envelope(m);
  }
}

void pushlog(std::string_view rest) {
  std::string repo = take_line(rest);
  std::string after_line = take_line(rest);
  int64_t after = 0;
  for (char c : after_line.substr(0, 12))
    if (c >= '0' && c <= '9') after = after * 10 + (c - '0');
  json body = json::parse(rest, nullptr, false);
  if (body.is_discarded()) return;
  (void)bridge::repo_routing_key(repo);
  for (bool full : {false, true}) {
    auto got = bridge::pushlog_messages(body, repo, after, full);
    if (!got) continue;
    check(got->ids.size() == got->payloads.size(), "one payload per push id");
    for (size_t i = 0; i < got->ids.size(); ++i) {
      check(got->ids[i] > after, "only pushes after the cursor");
      if (i > 0) check(got->ids[i] > got->ids[i - 1], "pushes in id order");
    }
  }
}

void config(std::string_view text) {
  auto c = bridge::parse_bridge_config(text, "fuzz.conf", [](const std::string& name) {
    return name == "FUZZ_SECRET" ? "from-env" : nullptr;
  });
  if (!c) return;
  for (const auto& s : c->sources) {
    check(!s.name.empty(), "a source has a name");
    (void)bridge::default_exchange(s, "fuzzer");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 7) {
    case 0:
    case 1:
    case 2:
    case 3:
      request(data[0] % 7, rest);
      break;
    case 4:
      feed(rest);
      break;
    case 5:
      pushlog(rest);
      break;
    case 6:
      config(rest);
      break;
  }
  return 0;
}
