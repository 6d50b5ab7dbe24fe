#pragma once
// A push subscription (PubSubHubbub style): what a user asked for, validated, and what Pulse
// keeps of it (state, lease, counts). Sans-IO: parsing, validation and the stored JSON form.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace pulse::push {

// Leases are wall-clock instants: they are shown to users and survive restarts.
using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

// verifying: the challenge GET is pending; active: messages flow; failed: the verification was
// refused or the queue vanished (kept for the owner to see, then purged); ended: lease run
// out, 410 Gone, or the owner's delete took it (deleted ones are removed at once).
enum class State { kVerifying, kActive, kFailed, kEnded };
const char* state_name(State s);
std::optional<State> parse_state(std::string_view s);

// The bounds of what a subscription may ask for and of what the engine holds.
struct Limits {
  uint32_t max_per_owner = 20;
  uint64_t min_lease_seconds = 1;
  uint64_t max_lease_seconds = 30ull * 24 * 3600;
  uint64_t default_lease_seconds = 24 * 3600;
  size_t max_callback = 2048;  // characters of the callback URL
  size_t max_secret = 200;
  size_t max_topic = 255;  // AMQP shortstr, as a binding key
  // A message body larger than this is not pushed: it is acked, counted failed and named in
  // last_error (a subscriber cannot ask for it again, but the queue does not stall on it).
  size_t max_body = 1024 * 1024;
};

struct Subscription {
  std::string id;           // 16 hex digits, random
  std::string owner;        // who created it (the signed-in name): who may see and delete it
  std::string queue_owner;  // the <owner> of its queue name (the Pulse user the guardian sees)
  std::string vhost = "/";
  std::string exchange;
  std::string topic = "#";  // routing-key pattern
  std::string callback;
  std::string secret;
  uint64_t lease_seconds = 0;
  TimePoint created{};
  TimePoint expires{};  // meaningful once active; while verifying: created + lease
  State state = State::kVerifying;
  std::string reason;  // why it failed or ended
  uint64_t delivered = 0;
  uint64_t failed = 0;  // attempts that did not get a 2xx
  std::string last_error;
  std::optional<TimePoint> last_delivery;

  std::string queue() const { return "queue/" + queue_owner + "/push-" + id; }
  // The key of its stored record.
  std::string key() const { return "subscription/" + id; }
};

// What a POST asks for, validated.
struct Request {
  std::string vhost = "/";
  std::string exchange;
  std::string topic = "#";
  std::string callback;
  std::string secret;
  uint64_t lease_seconds = 0;
  std::string queue_owner;  // "" : the caller's name
};

// A 400's text, naming the field, or the request. Unknown fields are refused.
Result<Request> parse_request(const nlohmann::json& body, const Limits& limits);

// A binding key: 1..255 bytes of UTF-8, words separated by dots, each word non-empty.
Status check_topic(std::string_view topic);
// An http:// or https:// URL with a host, no user information, no fragment, no spaces or
// control characters; a URL without a path gets "/". The URL as it will be used.
Result<std::string> check_callback(std::string_view url, size_t max);

// The stored record (the secret included) and back.
nlohmann::json to_record(const Subscription& s);
Result<Subscription> from_record(const nlohmann::json& j);

// 16 random hex digits (ids), 32 (challenges).
std::string random_hex(size_t digits);

}  // namespace pulse::push
