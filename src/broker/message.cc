#include "broker/message.h"

#include <charconv>

#include "amqp/properties_scan.h"

namespace pulse::broker {

Message::Message(const Message& o)
    : exchange(o.exchange),
      routing_key(o.routing_key),
      body(o.body),
      bcc_keys(o.bcc_keys),
      raw_properties_(o.raw_properties_),
      decoded_(o.decoded_ ? std::make_unique<amqp::BasicProperties>(*o.decoded_) : nullptr),
      flags_(o.flags_),
      delivery_mode_(o.delivery_mode_),
      priority_(o.priority_),
      expiration_ms_(o.expiration_ms_) {}

Message& Message::operator=(const Message& o) {
  if (this != &o) *this = Message(o);
  return *this;
}

bool Message::clear_for_reuse(size_t max_body_capacity) {
  if (body.capacity() > max_body_capacity) return false;
  exchange.clear();
  routing_key.clear();
  body.clear();
  bcc_keys.clear();
  raw_properties_.assign("\0\0", 2);
  decoded_.reset();
  flags_ = 0;
  delivery_mode_ = 0;
  priority_ = 0;
  expiration_ms_ = -1;
  return true;
}

bool Message::set_raw_properties(std::string_view raw) {
  amqp::PropertiesScan scan;
  auto bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
  if (!amqp::scan_properties(bytes, scan)) return false;
  std::unique_ptr<amqp::BasicProperties> decoded;
  if (scan.flags & amqp::BasicProperties::kHeaders) {
    decoded = std::make_unique<amqp::BasicProperties>();
    ByteReader r(bytes);
    if (!amqp::decode_properties(r, *decoded) || !r.empty()) return false;
  }
  raw_properties_.assign(raw);
  decoded_ = std::move(decoded);
  flags_ = scan.flags;
  delivery_mode_ = scan.delivery_mode;
  priority_ = scan.priority;
  auto e = (flags_ & amqp::BasicProperties::kExpiration) ? parse_expiration(scan.expiration)
                                                         : std::nullopt;
  expiration_ms_ = e ? *e : -1;
  return true;
}

const amqp::BasicProperties& Message::properties() const {
  if (!decoded_) {
    decoded_ = std::make_unique<amqp::BasicProperties>();
    ByteReader r(raw_properties_.data(), raw_properties_.size());
    // The bytes were validated (or encoded by us) when they were set.
    (void)amqp::decode_properties(r, *decoded_);
  }
  return *decoded_;
}

void Message::set_properties(amqp::BasicProperties p) {
  raw_properties_.clear();
  ByteWriter w(raw_properties_);
  amqp::encode_properties(w, p);
  take_summary(p);
  decoded_ = std::make_unique<amqp::BasicProperties>(std::move(p));
}

void Message::take_summary(const amqp::BasicProperties& p) {
  flags_ = p.flags;
  delivery_mode_ = p.delivery_mode;
  priority_ = p.priority;
  auto e =
      p.has(amqp::BasicProperties::kExpiration) ? parse_expiration(p.expiration) : std::nullopt;
  expiration_ms_ = e ? *e : -1;
}

std::optional<int64_t> parse_expiration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

}  // namespace pulse::broker
