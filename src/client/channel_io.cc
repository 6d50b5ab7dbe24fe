// The channel's hot path: publish/ack encoding and incoming methods and content.
#include "client/channel.h"
#include "client/connection.h"

namespace pulse::client {

namespace {

constexpr uint16_t kBasic = 60;
constexpr uint16_t kDeliverId = 60;
constexpr uint16_t kAckId = 80;
constexpr uint16_t kRejectId = 90;
constexpr uint16_t kNackId = 120;

bool read_shortstr(ByteReader& r, std::string& out) {
  uint8_t n;
  std::string_view v;
  if (!r.u8(n) || !r.bytes(n, v)) return false;
  out.assign(v);  // reuses the capacity of the previous delivery's string
  return true;
}

void reset_properties(amqp::BasicProperties& p) {
  p.flags = 0;
  p.content_type.clear();
  p.content_encoding.clear();
  p.headers.clear();
  p.delivery_mode = 0;
  p.priority = 0;
  p.correlation_id.clear();
  p.reply_to.clear();
  p.expiration.clear();
  p.message_id.clear();
  p.timestamp = 0;
  p.type.clear();
  p.user_id.clear();
  p.app_id.clear();
  p.cluster_id.clear();
}

std::string_view as_view(std::span<const uint8_t> s) {
  return {reinterpret_cast<const char*>(s.data()), s.size()};
}

}  // namespace

std::string Channel::encode_properties(const amqp::BasicProperties& properties) {
  std::string out;
  ByteWriter w(out);
  amqp::encode_properties(w, properties);
  return out;
}

Result<uint64_t> Channel::publish(std::string_view exchange, std::string_view routing_key,
                                  std::string_view body, const amqp::BasicProperties& properties,
                                  bool mandatory) {
  if (properties.flags == 0) {
    static constexpr char kNoProperties[2] = {0, 0};
    return publish_encoded(exchange, routing_key, body, std::string_view(kNoProperties, 2),
                           mandatory);
  }
  return publish_encoded(exchange, routing_key, body, encode_properties(properties), mandatory);
}

Result<uint64_t> Channel::publish_encoded(std::string_view exchange, std::string_view routing_key,
                                          std::string_view body,
                                          std::string_view encoded_properties, bool mandatory) {
  if (state_ != State::kOpen) return check_usable().error();
  if (exchange.size() > 255 || routing_key.size() > 255) {
    return Error{0, "exchange name or routing key longer than 255 bytes"};
  }
  std::string& out = conn_->out();
  ByteWriter w(out);
  w.u8(amqp::kFrameMethod);
  w.u16(id_);
  w.u32(static_cast<uint32_t>(4 + 2 + 1 + exchange.size() + 1 + routing_key.size() + 1));
  w.u16(kBasic);
  w.u16(amqp::BasicPublish::kMethodId);
  w.u16(0);  // ticket
  w.shortstr(exchange);
  w.shortstr(routing_key);
  w.u8(mandatory ? 1 : 0);
  w.u8(amqp::kFrameEnd);
  amqp::append_content(out, id_, encoded_properties, body, conn_->frame_max());
  const uint64_t seq = confirm_mode_ ? confirms_.add() : 0;
  if (auto st = conn_->after_append(); !st) return std::move(st).error();
  return seq;
}

Status Channel::append_small(uint16_t method_id, uint64_t tag, uint8_t bits) {
  if (state_ != State::kOpen) return check_usable();
  ByteWriter w(conn_->out());
  w.u8(amqp::kFrameMethod);
  w.u16(id_);
  w.u32(4 + 8 + 1);
  w.u16(kBasic);
  w.u16(method_id);
  w.u64(tag);
  w.u8(bits);
  w.u8(amqp::kFrameEnd);
  return conn_->after_append();
}

Status Channel::ack(uint64_t delivery_tag, bool multiple) {
  return append_small(kAckId, delivery_tag, multiple ? 1 : 0);
}

Status Channel::nack(uint64_t delivery_tag, bool multiple, bool requeue) {
  return append_small(kNackId, delivery_tag, (multiple ? 1 : 0) | (requeue ? 2 : 0));
}

Status Channel::reject(uint64_t delivery_tag, bool requeue) {
  return append_small(kRejectId, delivery_tag, requeue ? 1 : 0);
}

void Channel::protocol_error(uint16_t code, std::string text) {
  conn_->protocol_error(code, std::move(text));
}

void Channel::closed_by_server(const amqp::ChannelClose& c) {
  amqp::append_method_frame(conn_->out(), id_, amqp::ChannelCloseOk{});
  state_ = State::kClosed;
  error_ = Error{c.reply_code, c.reply_text, c.class_id, c.method_id};
  content_ = Content::kNone;
}

void Channel::handle_method(std::span<const uint8_t> payload) {
  if (state_ == State::kClosed) return;
  if (content_ != Content::kNone) {
    return protocol_error(amqp::kUnexpectedFrame,
                          "UNEXPECTED_FRAME - expected content header for class 60, got method "
                          "frame instead");
  }
  ByteReader r(payload);
  uint16_t class_id = 0, method_id = 0;
  (void)r.u16(class_id);
  (void)r.u16(method_id);
  if (class_id == kBasic && state_ == State::kOpen) {
    if (method_id == kDeliverId) {
      uint8_t bits = 0;
      if (!read_shortstr(r, consumer_tag_) || !r.u64(delivery_tag_) || !r.u8(bits) ||
          !read_shortstr(r, exchange_) || !read_shortstr(r, routing_key_)) {
        return protocol_error(amqp::kSyntaxError, "SYNTAX_ERROR - malformed basic.deliver");
      }
      redelivered_ = (bits & 1) != 0;
      content_ = Content::kDeliver;
      have_header_ = false;
      return;
    }
    if (method_id == kAckId || method_id == kNackId) {
      uint64_t tag = 0;
      uint8_t bits = 0;
      if (!r.u64(tag) || !r.u8(bits)) {
        return protocol_error(amqp::kSyntaxError, "SYNTAX_ERROR - malformed confirm");
      }
      const bool ack = method_id == kAckId;
      confirms_.settle(tag, (bits & 1) != 0, [&](uint64_t first, uint64_t last) {
        if (on_confirm_) on_confirm_(first, last, ack);
      });
      return;
    }
  }
  auto decoded = amqp::decode_method(payload);
  if (!decoded) return protocol_error(decoded.error().code, decoded.error().text);
  amqp::Method& m = *decoded;
  if (auto* c = std::get_if<amqp::ChannelClose>(&m)) return closed_by_server(*c);
  if (std::holds_alternative<amqp::ChannelCloseOk>(m)) {
    if (state_ == State::kClosing) {
      state_ = State::kClosed;
      reply_ = std::move(m);
    }
    return;
  }
  if (state_ == State::kClosing) return;  // everything else is discarded after our close
  if (auto* ret = std::get_if<amqp::BasicReturn>(&m)) {
    reply_code_ = ret->reply_code;
    reply_text_ = ret->reply_text;
    exchange_ = ret->exchange;
    routing_key_ = ret->routing_key;
    content_ = Content::kReturn;
    have_header_ = false;
    return;
  }
  if (auto* g = std::get_if<amqp::BasicGetOk>(&m)) {
    delivery_tag_ = g->delivery_tag;
    redelivered_ = g->redelivered;
    exchange_ = g->exchange;
    routing_key_ = g->routing_key;
    message_count_ = g->message_count;
    content_ = Content::kGetOk;
    have_header_ = false;
    return;
  }
  if (auto* cancel = std::get_if<amqp::BasicCancel>(&m)) {
    consumers_.erase(cancel->consumer_tag);
    last_tag_ = nullptr;
    last_handler_ = nullptr;
    if (!cancel->nowait) {
      amqp::BasicCancelOk ok;
      ok.consumer_tag = cancel->consumer_tag;
      amqp::append_method_frame(conn_->out(), id_, ok);
    }
    if (on_cancel_) on_cancel_(cancel->consumer_tag);
    return;
  }
  if (auto* flow = std::get_if<amqp::ChannelFlow>(&m)) {
    amqp::ChannelFlowOk ok;
    ok.active = flow->active;
    amqp::append_method_frame(conn_->out(), id_, ok);
    return;
  }
  const uint32_t k = uint32_t{amqp::class_id_of(m)} << 16 | amqp::method_id_of(m);
  if (k == 0 || (k != expect_ && k != expect_alt_)) return;  // not awaited: dropped
  if (auto* ok = std::get_if<amqp::BasicConsumeOk>(&m)) {
    consumers_[ok->consumer_tag] = std::move(pending_handler_);
    pending_handler_ = nullptr;
  }
  if (std::holds_alternative<amqp::BasicGetEmpty>(m)) reply_empty_ = true;
  reply_ = std::move(m);
}

void Channel::handle_header(std::span<const uint8_t> payload) {
  if (content_ == Content::kNone || have_header_) {
    if (state_ == State::kClosed || state_ == State::kClosing) return;
    return protocol_error(amqp::kUnexpectedFrame,
                          "UNEXPECTED_FRAME - expected method frame, got non method frame "
                          "instead");
  }
  ByteReader r(payload);
  uint16_t class_id = 0, weight = 0;
  reset_properties(props_);
  if (!r.u16(class_id) || !r.u16(weight) || !r.u64(body_size_) ||
      !amqp::decode_properties(r, props_) || !r.empty()) {
    return protocol_error(amqp::kFrameError, "FRAME_ERROR - malformed content header");
  }
  have_header_ = true;
  body_.clear();
  if (body_size_ == 0) content_done({});
}

void Channel::handle_body(std::span<const uint8_t> payload) {
  if (content_ == Content::kNone || !have_header_) {
    if (state_ == State::kClosed || state_ == State::kClosing) return;
    return protocol_error(amqp::kUnexpectedFrame,
                          "UNEXPECTED_FRAME - expected method frame, got non method frame "
                          "instead");
  }
  if (body_.empty() && payload.size() == body_size_) return content_done(as_view(payload));
  if (body_.size() + payload.size() > body_size_) {
    return protocol_error(amqp::kFrameError, "FRAME_ERROR - body longer than its header says");
  }
  body_.append(as_view(payload));
  if (body_.size() == body_size_) content_done(body_);
}

void Channel::content_done(std::string_view body) {
  const Content kind = content_;
  content_ = Content::kNone;
  have_header_ = false;
  switch (kind) {
    case Content::kDeliver: {
      DeliveryHandler* h = nullptr;
      if (last_tag_ != nullptr && *last_tag_ == consumer_tag_) {
        h = last_handler_;
      } else if (auto it = consumers_.find(consumer_tag_); it != consumers_.end()) {
        last_tag_ = &it->first;
        last_handler_ = &it->second;
        h = last_handler_;
      }
      if (h == nullptr || !*h) return;  // consumer already cancelled
      Delivery d{this,      consumer_tag_, delivery_tag_, redelivered_,
                 exchange_, routing_key_,  &props_,       body};
      (*h)(d);
      return;
    }
    case Content::kReturn:
      if (on_return_) {
        on_return_(Returned{reply_code_, reply_text_, exchange_, routing_key_, &props_, body});
      }
      return;
    case Content::kGetOk: {
      Message msg;
      msg.delivery_tag = delivery_tag_;
      msg.redelivered = redelivered_;
      msg.exchange = exchange_;
      msg.routing_key = routing_key_;
      msg.message_count = message_count_;
      msg.properties = props_;
      msg.body = std::string(body);
      got_ = std::move(msg);
      if (expect_ != 0) reply_ = amqp::BasicGetOk{};
      return;
    }
    case Content::kNone:
      return;
  }
}

}  // namespace pulse::client
