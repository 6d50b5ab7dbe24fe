#pragma once
// One AMQP channel: assembles published content, applies AMQP class semantics through the
// broker (one handler file per class), tracks consumers, prefetch windows, unacked deliveries,
// publisher confirms and transactions. Runs on the broker event loop.
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "amqp/frame.h"
#include "auth/auth_store.h"
#include "base/recycling_allocator.h"
#include "broker/broker.h"
#include "broker/consumer.h"
#include "broker/principal.h"
#include "server/consumer_timeout.h"

namespace pulse::server {

class AmqpConnection;

// Channel-side state of one consumer; unacked deliveries keep it alive after a cancel so
// their acks still settle the right counters.
struct ConsumerState {
  std::string tag;
  broker::QueuePtr queue;
  broker::Consumer* consumer = nullptr;  // owned by the queue; null once cancelled
  uint16_t prefetch = 0;                 // per-consumer window (basic.qos global=false)
  uint32_t unacked = 0;
  bool no_ack = false;
};

struct Unacked {
  uint64_t tag;
  broker::QueuePtr queue;
  broker::QueuedMessage message;
  std::shared_ptr<ConsumerState> consumer;  // null for basic.get
  int64_t delivered_ms = 0;                 // coarse_now_ms() when it was sent
};

// What a settlement does with a delivery: basic.ack, or basic.nack / basic.reject with
// requeue true or false (dead-lettered or dropped).
enum class Settle { kAck, kRequeue, kReject };

// Per-channel message counters (plain increments), sampled by the management API.
// A channel counts its own message events; its vhost counts them apart (broker counters).
using ChannelCounters = broker::MessageCounters;

class Channel : public broker::ConsumerSink,
                public broker::DirectReplySink,
                public broker::SyncWaiter {
 public:
  Channel(AmqpConnection& conn, uint16_t id);
  ~Channel() override;

  void handle_frame(const amqp::FrameView& f);
  // Called after each batch of input frames: flushes coalesced confirms.
  void end_of_batch();
  // Releases consumers and requeues unacked messages (channel or connection closing).
  void release();
  bool finished() const { return state_ == State::kFinished; }
  void resume_deliveries();

  // Read-only views for the management API.
  uint16_t id() const { return id_; }
  const char* state_text() const { return state_ == State::kOpen ? "running" : "closing"; }
  const ChannelCounters& counters() const { return counters_; }
  uint16_t prefetch_count() const { return prefetch_per_consumer_; }
  uint16_t global_prefetch_count() const { return prefetch_global_; }
  bool confirm_mode() const { return confirm_mode_; }
  bool tx_mode() const { return tx_mode_; }
  size_t unacked_count() const { return unacked_.size(); }
  // When the oldest delivery still unacknowledged was sent (coarse_now_ms()), if any.
  std::optional<int64_t> oldest_unacked_ms() const {
    if (state_ != State::kOpen || unacked_.empty()) return std::nullopt;
    return unacked_.front().delivered_ms;
  }
  // consumer_timeout passed for the oldest delivery: the channel closes with 406.
  void consumer_timed_out(uint32_t timeout_ms);
  size_t consumer_count() const { return consumers_.size(); }
  uint64_t unconfirmed_count() const { return confirm_mode_ ? publish_seq_ - confirm_acked_ : 0; }
  size_t uncommitted_count() const { return tx_publishes_.size(); }
  size_t acks_uncommitted_count() const { return tx_settles_.size(); }
  const std::unordered_map<std::string, std::shared_ptr<ConsumerState>>& consumers() const {
    return consumers_;
  }
  // When the channel last handled a frame (its input batch's read time).
  std::chrono::steady_clock::time_point last_active() const { return last_active_; }

  // broker::ConsumerSink
  bool can_take(const broker::Consumer& c) const override;
  void deliver(broker::Consumer& c, broker::Queue& q, broker::QueuedMessage&& m) override;
  void cancelled_by_broker(broker::Consumer& c) override;
  // broker::DirectReplySink
  void deliver_reply(broker::MessagePtr msg) override;
  // broker::SyncWaiter: confirms of persistent messages wait for their write epoch.
  void on_synced(uint64_t epoch, bool ok) override;

 private:
  enum class State { kOpen, kClosing, kFinished };

  void handle_method(amqp::Method&& m);
  void handle_header(const amqp::FrameView& f);
  void handle_body(const amqp::FrameView& f);
  // Soft error: close the channel with code/text and wait for close-ok.
  void channel_error(const Error& e, uint16_t class_id, uint16_t method_id);
  void fail(const Error& e, const amqp::Method& m);
  template <typename M>
  void reply(const M& m) {
    amqp::append_method_frame(out(), id_, m);
  }
  std::string& out();

  // Handlers (one file per AMQP class). The broker operations (broker/operations.h) do the
  // checks and changes; handlers add AMQP's own parts (the queue shortcut, nowait, replies).
  Status on_channel(amqp::Method& m);
  Status on_exchange(amqp::Method& m);
  Status on_queue(amqp::Method& m);
  Status on_basic(amqp::Method& m);
  Status on_confirm_tx(amqp::Method& m);

  Status queue_declare(amqp::QueueDeclare& d);
  Status queue_bind(const amqp::QueueBind& b);
  Status queue_unbind(const amqp::QueueUnbind& u);
  Status queue_purge(const amqp::QueuePurge& p);
  Status queue_delete(const amqp::QueueDelete& d);

  // "" means the queue most recently declared on this channel (AMQP's shortcut).
  Result<std::string> queue_name(const std::string& name) const;
  // Routes and enqueues a checked message; `x` null: look the exchange up again (tx.commit).
  Status publish(const std::shared_ptr<broker::Message>& msg, bool mandatory, broker::Exchange* x);
  void complete_publish();
  bool take_publish(std::span<const uint8_t> payload);
  Status consume(amqp::BasicConsume& m);
  Status get(const amqp::BasicGet& g);
  Status cancel(const std::string& tag, bool nowait, bool from_client);
  Status settle(uint64_t tag, bool multiple, Settle how);
  void settle_one(Unacked&& u, Settle how);
  // Puts a delivery taken for settlement back among the unacked ones, in tag order.
  void restore_unacked(Unacked&& u);
  // `epoch` > 0: the publish was written to a durable store in that write epoch; the confirm
  // waits until it is synced. Later confirms queue behind it to keep the order.
  void confirm(uint64_t seq, bool ack, uint64_t epoch = 0);
  void send_confirm(uint64_t seq, bool ack);
  void flush_confirms();

  AmqpConnection& conn_;
  uint16_t id_;
  State state_ = State::kOpen;
  ChannelCounters counters_;
  std::chrono::steady_clock::time_point last_active_;
  bool flow_active_ = true;

  // Content assembly for basic.publish.
  enum class Content { kIdle, kHeader, kBody } content_ = Content::kIdle;
  amqp::BasicPublish pending_publish_;
  // Allocated at the content header and filled in place: it becomes the shared message.
  std::shared_ptr<broker::Message> pending_msg_;
  uint64_t body_expected_ = 0;

  // Consumers and deliveries.
  std::unordered_map<std::string, std::shared_ptr<ConsumerState>> consumers_;
  std::deque<Unacked, RecyclingAllocator<Unacked>> unacked_;
  uint64_t next_delivery_tag_ = 0;
  uint16_t prefetch_per_consumer_ = 0;
  uint16_t prefetch_global_ = 0;
  uint32_t unacked_with_limit_ = 0;  // deliveries counted against the global window
  std::string reply_token_;          // direct reply-to consumer
  std::string reply_consumer_tag_;
  std::string last_declared_queue_;

  // Publisher confirms: acks are coalesced into one multiple-ack per batch.
  bool confirm_mode_ = false;
  uint64_t publish_seq_ = 0;
  uint64_t confirm_ack_upto_ = 0;
  uint64_t confirm_acked_ = 0;
  struct PendingConfirm {
    uint64_t seq, epoch;
    bool ack;
    bool commit_ok = false;  // a tx.commit-ok instead of a confirm
  };
  bool publish_needs_sync_ = false;  // the last publish wrote to a durable store
  std::deque<PendingConfirm> sync_pending_;

  // Transactions.
  bool tx_mode_ = false;
  std::vector<std::pair<std::shared_ptr<broker::Message>, bool>> tx_publishes_;
  std::vector<std::pair<Unacked, Settle>> tx_settles_;  // collected at ack time, applied at commit

  // The connection's user in its vhost: permission checks are cached per channel, as RabbitMQ
  // does.
  broker::Principal principal_;
};

}  // namespace pulse::server
