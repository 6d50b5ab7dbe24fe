// The channel's hot path: publish/ack encoding and incoming methods and content.
#include <type_traits>

#include "amqp/basic_frames.h"
#include "client/channel.h"
#include "client/connection.h"

namespace pulse::client {

namespace {

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
  amqp::append_basic_publish(out, id_, exchange, routing_key, mandatory);
  amqp::append_content(out, id_, encoded_properties, body, conn_->frame_max());
  const uint64_t seq = confirm_mode_ ? confirms_.add() : 0;
  if (auto st = conn_->after_append(); !st) return std::move(st).error();
  return seq;
}

template <typename Encode>
Status Channel::append_buffered(const Encode& encode) {
  if (state_ != State::kOpen) return check_usable();
  encode(conn_->out());
  return conn_->after_append();
}

Status Channel::ack(uint64_t delivery_tag, bool multiple) {
  return append_buffered(
      [&](std::string& out) { amqp::append_basic_ack(out, id_, delivery_tag, multiple); });
}

Status Channel::nack(uint64_t delivery_tag, bool multiple, bool requeue) {
  return append_buffered([&](std::string& out) {
    amqp::append_basic_nack(out, id_, delivery_tag, multiple, requeue);
  });
}

Status Channel::reject(uint64_t delivery_tag, bool requeue) {
  return append_buffered(
      [&](std::string& out) { amqp::append_basic_reject(out, id_, delivery_tag, requeue); });
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
  // Deliveries and confirms are decoded in place (no Method variant, strings keep their
  // capacity); everything else, and anything malformed, through the generic decoder.
  const uint32_t key = amqp::method_key_of(payload);
  if (state_ == State::kOpen) {
    if (key == amqp::kMethodKey<amqp::BasicDeliver>) {
      if (!amqp::decode_method_args(payload, deliver_)) {
        return protocol_error(amqp::kSyntaxError, "SYNTAX_ERROR - malformed basic.deliver");
      }
      content_ = Content::kDeliver;
      have_header_ = false;
      return;
    }
    // basic.ack and basic.nack from the server settle publishes (confirm mode).
    auto settle = [&](auto m) {
      if (!amqp::decode_method_args(payload, m)) {
        return protocol_error(amqp::kSyntaxError, "SYNTAX_ERROR - malformed confirm");
      }
      constexpr bool ack = std::is_same_v<decltype(m), amqp::BasicAck>;
      confirms_.settle(m.delivery_tag, m.multiple, [&](uint64_t first, uint64_t last) {
        if (on_confirm_) on_confirm_(first, last, ack);
      });
    };
    if (key == amqp::kMethodKey<amqp::BasicAck>) return settle(amqp::BasicAck{});
    if (key == amqp::kMethodKey<amqp::BasicNack>) return settle(amqp::BasicNack{});
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
    deliver_.exchange = ret->exchange;
    deliver_.routing_key = ret->routing_key;
    content_ = Content::kReturn;
    have_header_ = false;
    return;
  }
  if (auto* g = std::get_if<amqp::BasicGetOk>(&m)) {
    deliver_.delivery_tag = g->delivery_tag;
    deliver_.redelivered = g->redelivered;
    deliver_.exchange = g->exchange;
    deliver_.routing_key = g->routing_key;
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
  // Not awaited: dropped (no method has key 0, so nothing matches when nothing is awaited).
  if (key != expect_ && key != expect_alt_) return;
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
      if (last_tag_ != nullptr && *last_tag_ == deliver_.consumer_tag) {
        h = last_handler_;
      } else if (auto it = consumers_.find(deliver_.consumer_tag); it != consumers_.end()) {
        last_tag_ = &it->first;
        last_handler_ = &it->second;
        h = last_handler_;
      }
      if (h == nullptr || !*h) return;  // consumer already cancelled
      Delivery d{this,
                 deliver_.consumer_tag,
                 deliver_.delivery_tag,
                 deliver_.redelivered,
                 deliver_.exchange,
                 deliver_.routing_key,
                 &props_,
                 body};
      (*h)(d);
      return;
    }
    case Content::kReturn:
      if (on_return_) {
        on_return_(Returned{reply_code_, reply_text_, deliver_.exchange, deliver_.routing_key,
                            &props_, body});
      }
      return;
    case Content::kGetOk: {
      Message msg;
      msg.delivery_tag = deliver_.delivery_tag;
      msg.redelivered = deliver_.redelivered;
      msg.exchange = deliver_.exchange;
      msg.routing_key = deliver_.routing_key;
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
