#include "server/channel.h"

#include <algorithm>

#include "amqp/basic_frames.h"
#include "amqp/properties_scan.h"
#include "base/log.h"
#include "broker/message_pool.h"
#include "server/amqp_connection.h"

namespace pulse::server {

namespace {
constexpr uint64_t kMaxBodyReserve = 1024 * 1024;
}  // namespace

Channel::Channel(AmqpConnection& conn, uint16_t id)
    : conn_(conn),
      id_(id),
      last_active_(conn.last_recv()),
      principal_(conn.auth(), conn.user(), *conn.vhost(), conn.id()) {
  ++conn_.broker().node_counters().channels_opened;
}

Channel::~Channel() {
  release();
  ++conn_.broker().node_counters().channels_closed;
}

std::string& Channel::out() {
  return conn_.out();
}

void Channel::handle_frame(const amqp::FrameView& f) {
  if (state_ == State::kFinished) return;
  last_active_ = conn_.last_recv();
  if (state_ == State::kClosing) {
    // After channel.close only close-ok (or a crossing close) counts; the rest is dropped.
    if (f.type != amqp::kFrameMethod) return;
    auto m = amqp::decode_method(f.payload);
    if (!m) return;
    if (std::holds_alternative<amqp::ChannelCloseOk>(*m)) {
      state_ = State::kFinished;
    } else if (std::holds_alternative<amqp::ChannelClose>(*m)) {
      reply(amqp::ChannelCloseOk{});
      state_ = State::kFinished;
    }
    return;
  }
  switch (f.type) {
    case amqp::kFrameMethod: {
      if (content_ == Content::kIdle && take_publish(f.payload)) return;
      if (content_ != Content::kIdle) {
        const char* text = content_ == Content::kHeader
                               ? "UNEXPECTED_FRAME - expected content header for class 60, got "
                                 "non content header frame instead"
                               : "UNEXPECTED_FRAME - expected content body, got non content body "
                                 "frame instead";
        conn_.connection_error(amqp::kUnexpectedFrame, text, 60, 40);
        return;
      }
      auto m = amqp::decode_method(f.payload);
      if (!m) {
        conn_.connection_error(m.error().code, m.error().text, m.error().class_id,
                               m.error().method_id);
        return;
      }
      // Connection methods, and close-ok for a close nobody sent, are not channel methods:
      // RabbitMQ's channel answers them as unimplemented (a connection error).
      if (amqp::class_id_of(*m) == amqp::ConnectionStart::kClassId ||
          std::holds_alternative<amqp::ChannelCloseOk>(*m)) {
        conn_.connection_error(amqp::kCommandInvalid, "COMMAND_INVALID - unimplemented method",
                               amqp::class_id_of(*m), amqp::method_id_of(*m));
        return;
      }
      if (auto* p = std::get_if<amqp::BasicPublish>(&*m)) {
        pending_publish_ = std::move(*p);
        content_ = Content::kHeader;
        return;
      }
      handle_method(std::move(*m));
      return;
    }
    case amqp::kFrameHeader:
      handle_header(f);
      return;
    case amqp::kFrameBody:
      handle_body(f);
      return;
  }
}

// basic.publish is most of the traffic: its arguments are decoded straight into the pending
// publish, without the generic Method variant. Anything unusual (another method, malformed
// arguments) goes through the generic decoder, which reports it.
bool Channel::take_publish(std::span<const uint8_t> payload) {
  if (!amqp::is_method<amqp::BasicPublish>(payload) ||
      !amqp::decode_method_args(payload, pending_publish_)) {
    return false;
  }
  content_ = Content::kHeader;
  return true;
}

// Content frames follow RabbitMQ's command assembler: the texts depend on what the channel was
// waiting for, and errors within a publish name basic.publish.
void Channel::handle_header(const amqp::FrameView& f) {
  if (content_ == Content::kIdle) {
    conn_.connection_error(
        amqp::kUnexpectedFrame,
        "UNEXPECTED_FRAME - expected method frame, got non method frame instead");
    return;
  }
  if (content_ == Content::kBody) {
    conn_.connection_error(
        amqp::kUnexpectedFrame,
        "UNEXPECTED_FRAME - expected content body, got non content body frame instead", 60, 40);
    return;
  }
  // The connection only passes header frames with their 12 fixed bytes, so this cannot fail.
  amqp::ContentHeaderView h;
  (void)amqp::split_content_header(f.payload, h);
  if (h.weight != 0) {
    conn_.connection_error(amqp::kUnexpectedFrame,
                           "UNEXPECTED_FRAME - expected content header for class 60, got non "
                           "content header frame instead",
                           60, 40);
    return;
  }
  if (h.class_id != amqp::kClassBasic) {
    conn_.connection_error(amqp::kUnexpectedFrame,
                           "UNEXPECTED_FRAME - expected content header for class 60, got one for "
                           "class " +
                               std::to_string(h.class_id) + " instead",
                           60, 40);
    return;
  }
  auto msg = broker::make_pooled_message();
  if (!msg->set_raw_properties(std::string_view(
          reinterpret_cast<const char*>(h.raw_properties.data()), h.raw_properties.size()))) {
    conn_.connection_error(amqp::kFrameError, "FRAME_ERROR - cannot decode content header", 60, 40);
    return;
  }
  content_ = Content::kIdle;
  const uint64_t max = conn_.options().max_message_size;
  if (max != 0 && h.body_size > max) {
    // The channel closes now; its remaining body frames are discarded unread.
    channel_error(Error{amqp::kPreconditionFailed,
                        "PRECONDITION_FAILED - message size " + std::to_string(h.body_size) +
                            " is larger than configured max size " + std::to_string(max)},
                  60, 40);
    return;
  }
  // Swapped, not moved: both sides keep their capacity for the next publish.
  msg->exchange.swap(pending_publish_.exchange);
  msg->routing_key.swap(pending_publish_.routing_key);
  pending_msg_ = std::move(msg);
  body_expected_ = h.body_size;
  if (body_expected_ == 0) {
    complete_publish();
  } else {
    // The declared size is only a claim: reserving all of it up front would let clients make
    // us map up to max_message_size per channel before sending a byte (slow under ASan, and
    // address space on many channels). Larger bodies grow as they actually arrive.
    pending_msg_->body.reserve(std::min<uint64_t>(body_expected_, kMaxBodyReserve));
    content_ = Content::kBody;
  }
}

void Channel::handle_body(const amqp::FrameView& f) {
  if (content_ == Content::kIdle) {
    conn_.connection_error(
        amqp::kUnexpectedFrame,
        "UNEXPECTED_FRAME - expected method frame, got non method frame instead");
    return;
  }
  if (content_ == Content::kHeader) {
    conn_.connection_error(amqp::kUnexpectedFrame,
                           "UNEXPECTED_FRAME - expected content header for class 60, got non "
                           "content header frame instead",
                           60, 40);
    return;
  }
  // RabbitMQ would wait forever for a body that overran its size; refusing it at once is
  // kinder and never routes a corrupt message.
  std::string& body = pending_msg_->body;
  if (body.size() + f.payload.size() > body_expected_) {
    conn_.connection_error(amqp::kUnexpectedFrame,
                           "UNEXPECTED_FRAME - content body exceeds the size in its header", 60,
                           40);
    return;
  }
  body.append(reinterpret_cast<const char*>(f.payload.data()), f.payload.size());
  if (body.size() == body_expected_) {
    content_ = Content::kIdle;
    complete_publish();
  }
}

void Channel::handle_method(amqp::Method&& m) {
  Status s;
  switch (amqp::class_id_of(m)) {
    case 20:
      s = on_channel(m);
      break;
    case 30:  // access.request: obsolete, RabbitMQ answers with a dummy ticket
      if (std::holds_alternative<amqp::AccessRequest>(m)) {
        amqp::AccessRequestOk ok;
        ok.ticket = 1;
        reply(ok);
        return;
      }
      [[fallthrough]];
    case 40:
      s = on_exchange(m);
      break;
    case 50:
      s = on_queue(m);
      break;
    case 60:
      s = on_basic(m);
      break;
    case 85:
    case 90:
      s = on_confirm_tx(m);
      break;
    default:
      s = Error{amqp::kCommandInvalid, std::string("COMMAND_INVALID - method ") + amqp::name_of(m) +
                                           " not allowed on a channel"};
  }
  if (!s) fail(s.error(), m);
}

void Channel::fail(const Error& e, const amqp::Method& m) {
  uint16_t c = e.class_id ? e.class_id : amqp::class_id_of(m);
  uint16_t mid = e.class_id ? e.method_id : amqp::method_id_of(m);
  if (amqp::is_hard_error(e.code)) {
    conn_.connection_error(e.code, e.text, c, mid);
  } else {
    channel_error(e, c, mid);
  }
}

void Channel::channel_error(const Error& e, uint16_t class_id, uint16_t method_id) {
  spdlog::info("connection {} channel {}: closing with {}: {}", conn_.id(), id_, e.code, e.text);
  flush_confirms();
  amqp::ChannelClose close;
  close.reply_code = e.code;
  close.reply_text = e.text;
  close.class_id = class_id;
  close.method_id = method_id;
  reply(close);
  release();
  state_ = State::kClosing;
  content_ = Content::kIdle;
}

void Channel::release() {
  if (!sync_pending_.empty()) {
    conn_.broker().durability().remove_waiter(this);
    sync_pending_.clear();
  }
  if (state_ == State::kFinished) return;
  auto consumers = std::move(consumers_);
  consumers_.clear();
  for (auto& [tag, cs] : consumers) {
    if (cs->consumer && cs->queue && !cs->queue->deleted()) {
      broker::QueuePtr q = cs->queue;
      broker::Consumer* c = cs->consumer;
      cs->consumer = nullptr;
      if (q->remove_consumer(c)) q->vhost().remove_queue(*q);
    }
  }
  if (!reply_token_.empty()) {
    conn_.broker().unregister_reply_sink(reply_token_);
    reply_token_.clear();
  }
  // Acks of an uncommitted transaction never happened: those deliveries are requeued too.
  auto tx_settles = std::move(tx_settles_);
  tx_settles_.clear();
  for (auto& [u, mode] : tx_settles) restore_unacked(std::move(u));
  // Requeue what was in flight, oldest first, so queues keep their order.
  auto unacked = std::move(unacked_);
  unacked_.clear();
  for (auto& u : unacked) u.queue->requeue(std::move(u.message));
  tx_publishes_.clear();
  state_ = State::kFinished;
}

void Channel::consumer_timed_out(uint32_t timeout_ms) {
  const Unacked& oldest = unacked_.front();
  spdlog::warn(
      "connection {} channel {}: consumer {} has timed out waiting for delivery acknowledgement "
      "(delivery tag {}); timeout used: {} ms (consumer_timeout)",
      conn_.id(), id_, oldest.consumer ? oldest.consumer->tag : std::string("(basic.get)"),
      oldest.tag, timeout_ms);
  channel_error(Error{amqp::kPreconditionFailed, consumer_timeout_text(id_, timeout_ms)}, 0, 0);
  conn_.schedule_flush();
}

void Channel::end_of_batch() {
  flush_confirms();
}

}  // namespace pulse::server
