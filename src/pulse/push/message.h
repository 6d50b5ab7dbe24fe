#pragma once
// What is pushed: a message taken from a subscription's queue, and the JSON body posted to the
// callback (the shape pulse-listen prints: exchange, routing_key, redelivered, properties,
// body), signed with the subscription's secret.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "amqp/generated/properties.h"

namespace pulse::push {

struct PushMessage {
  std::string exchange;
  std::string routing_key;
  bool redelivered = false;
  nlohmann::json properties = nlohmann::json::object();  // only those present
  std::string body;                                      // the bytes as published
};

// {"exchange", "routing_key", "redelivered", "properties", "body"}: the body as a JSON value
// when it is JSON (a Pulse envelope: payload and _meta), a string when it is other UTF-8 text,
// else base64 with "body_encoding": "base64".
std::string delivery_body(const PushMessage& m);

// The properties present, as pulse-listen prints them (headers as JSON).
nlohmann::json properties_json(const amqp::BasicProperties& p);

// "sha256=<64 lower-case hex digits>": HMAC-SHA256 of `body` keyed with `secret`, the value of
// the X-Hub-Signature-256 header (GitHub's and WebSub's form).
std::string signature(std::string_view secret, std::string_view body);

}  // namespace pulse::push
