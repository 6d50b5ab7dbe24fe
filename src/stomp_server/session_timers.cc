// The session's timers: heart-beats (rabbit_heartbeat's) and consumer_timeout (rabbit_channel's,
// as RabbitMQ's STOMP plugin runs each session on an AMQP channel).
#include "base/log.h"
#include "server/consumer_timeout.h"
#include "stomp/serializer.h"
#include "stomp_server/session.h"

namespace pulse::stomp_server {

void Session::start_heartbeats() {
  if (heartbeat_.send_ms > 0) {
    sent_at_last_tick_ = transport_.bytes_sent();
    arm_send_heartbeat();
  }
  if (heartbeat_.receive_ms > 0) {
    recv_at_last_tick_ = recv_oct_;
    arm_receive_heartbeat();
  }
}

// As rabbit_heartbeat: the sender checks every half period and sends when nothing went out;
// the receiver checks every period and gives up after two silent ones.
void Session::arm_send_heartbeat() {
  send_timer_.expires_after(std::chrono::milliseconds(heartbeat_.send_ms / 2));
  send_timer_.async_wait([w = weak_from_this()](boost::system::error_code ec) {
    auto self = w.lock();
    if (!self || ec || self->ended_) return;
    if (self->transport_.bytes_sent() == self->sent_at_last_tick_ &&
        self->transport_.pending_bytes() == 0)
      self->transport_.send(stomp::kHeartbeat);
    self->sent_at_last_tick_ = self->transport_.bytes_sent();
    self->arm_send_heartbeat();
  });
}

void Session::arm_receive_heartbeat() {
  receive_timer_.expires_after(std::chrono::milliseconds(heartbeat_.receive_ms));
  receive_timer_.async_wait([w = weak_from_this()](boost::system::error_code ec) {
    auto self = w.lock();
    if (!self || ec || self->ended_) return;
    if (self->blocked_) {
      self->missed_ = 0;  // not read while blocked: the silence is ours
    } else if (self->recv_oct_ == self->recv_at_last_tick_) {
      if (++self->missed_ >= 2) {
        spdlog::warn("STOMP detected missed client heartbeat(s) on connection {}, closing it",
                     self->id_);
        self->end_session();
        self->transport_.abort();
        return;
      }
    } else {
      self->missed_ = 0;
    }
    self->recv_at_last_tick_ = self->recv_oct_;
    self->arm_receive_heartbeat();
  });
}

void Session::unacked_delivery(int64_t at_ms) {
  if (!consumer_timer_armed_) arm_consumer_timer(at_ms + ctx_.options.consumer_timeout_ms);
}

void Session::arm_consumer_timer(int64_t due_ms) {
  consumer_timer_armed_ = true;
  consumer_timer_.expires_after(
      std::chrono::milliseconds(std::max<int64_t>(due_ms - server::coarse_now_ms() + 1, 1)));
  consumer_timer_.async_wait([w = weak_from_this()](boost::system::error_code ec) {
    auto self = w.lock();
    if (!self || ec) return;
    self->consumer_timer_armed_ = false;
    self->on_consumer_timer();
  });
}

// As rabbit_channel's tick: the session's oldest unacknowledged MESSAGE (deliveries are
// channel-wide, whatever the subscription) decides. RabbitMQ's STOMP plugin sees its channel
// close with the 406 and dies with it: the ERROR, then the close; the session's unacked
// messages are requeued as for any end of a session.
void Session::on_consumer_timer() {
  if (ended_ || closing_ || unacked_.empty()) return;
  const uint32_t timeout = ctx_.options.consumer_timeout_ms;
  const Unacked& oldest = unacked_.front();
  if (oldest.delivered_ms + timeout > server::coarse_now_ms()) {
    arm_consumer_timer(oldest.delivered_ms + timeout);
    return;
  }
  spdlog::warn(
      "STOMP connection {}: subscription {} has timed out waiting for delivery acknowledgement "
      "(message {}); timeout used: {} ms (consumer_timeout)",
      id_, oldest.sub ? oldest.sub->description : std::string("(cancelled)"), oldest.tag, timeout);
  send_error(death(Error{406, server::consumer_timeout_text(1, timeout)}));
  close();
}

}  // namespace pulse::stomp_server
