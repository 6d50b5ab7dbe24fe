// confirm.select and tx.* methods, and confirm coalescing.
#include "server/amqp_connection.h"
#include "server/channel.h"

namespace pulse::server {

Status Channel::on_confirm_tx(amqp::Method& m) {
  auto precondition = [](const char* text) {
    return Error{amqp::kPreconditionFailed, std::string("PRECONDITION_FAILED - ") + text};
  };
  if (auto* c = std::get_if<amqp::ConfirmSelect>(&m)) {
    if (tx_mode_) return precondition("cannot switch from tx to confirm mode");
    confirm_mode_ = true;
    if (!c->nowait) reply(amqp::ConfirmSelectOk{});
    return {};
  }
  if (std::holds_alternative<amqp::TxSelect>(m)) {
    if (confirm_mode_) return precondition("cannot switch from confirm to tx mode");
    tx_mode_ = true;
    reply(amqp::TxSelectOk{});
    return {};
  }
  if (std::holds_alternative<amqp::TxCommit>(m)) {
    if (!tx_mode_) return precondition("channel is not transactional");
    auto publishes = std::move(tx_publishes_);
    tx_publishes_.clear();
    auto settles = std::move(tx_settles_);
    tx_settles_.clear();
    bool needs_sync = false;
    for (auto& [msg, mandatory] : publishes) {
      publish_needs_sync_ = false;
      // The exchange is looked up again: it may have gone since the publish was checked.
      auto s = publish(msg, mandatory, nullptr);
      needs_sync = needs_sync || publish_needs_sync_;
      if (!s) {
        // The commit failed and the channel closes: its acks never happened, so those
        // deliveries are unacked again and the close requeues them instead of losing them.
        for (auto& [u, mode] : settles) restore_unacked(std::move(u));
        return s;
      }
    }
    for (auto& [u, how] : settles) settle_one(std::move(u), how);
    resume_deliveries();
    if (needs_sync) {
      // As in RabbitMQ, commit-ok promises the persistent messages are on disk.
      auto& durability = conn_.broker().durability();
      if (sync_pending_.empty()) durability.add_waiter(this);
      sync_pending_.push_back({0, durability.write_epoch(), true, true});
      return {};
    }
    reply(amqp::TxCommitOk{});
    return {};
  }
  if (std::holds_alternative<amqp::TxRollback>(m)) {
    if (!tx_mode_) return precondition("channel is not transactional");
    tx_publishes_.clear();
    // Acks taken back: those deliveries are unacknowledged again.
    for (auto& [u, mode] : tx_settles_) restore_unacked(std::move(u));
    tx_settles_.clear();
    reply(amqp::TxRollbackOk{});
    return {};
  }
  return Error{amqp::kCommandInvalid, "COMMAND_INVALID - unimplemented method"};
}

void Channel::restore_unacked(Unacked&& u) {
  auto pos = std::lower_bound(unacked_.begin(), unacked_.end(), u.tag,
                              [](const Unacked& e, uint64_t t) { return e.tag < t; });
  unacked_.insert(pos, std::move(u));
}

void Channel::confirm(uint64_t seq, bool ack, uint64_t epoch) {
  auto& durability = conn_.broker().durability();
  if (!sync_pending_.empty() || (epoch && epoch > durability.synced_epoch())) {
    if (sync_pending_.empty()) durability.add_waiter(this);
    sync_pending_.push_back({seq, epoch, ack});
    return;
  }
  send_confirm(seq, ack);
}

void Channel::on_synced(uint64_t epoch, bool ok) {
  while (!sync_pending_.empty() && sync_pending_.front().epoch <= epoch) {
    PendingConfirm p = sync_pending_.front();
    sync_pending_.pop_front();
    if (p.commit_ok) {
      // The broker cannot take back a commit whose messages may not be on disk.
      if (!ok) {
        conn_.connection_error(Error{
            amqp::kInternalError, "INTERNAL_ERROR - message store failed to sync the transaction"});
        return;
      }
      reply(amqp::TxCommitOk{});
      continue;
    }
    // A failed sync may have lost the data: the publisher must not be told it is safe.
    send_confirm(p.seq, p.ack && (ok || p.epoch == 0));
  }
  if (sync_pending_.empty()) conn_.broker().durability().remove_waiter(this);
  flush_confirms();
  conn_.schedule_flush();
}

void Channel::send_confirm(uint64_t seq, bool ack) {
  if (ack) {
    // Counted per message (seq numbers are consecutive; acks may be coalesced later).
    if (seq > confirm_ack_upto_) {
      conn_.vhost()->count(&broker::MessageCounters::confirm, seq - confirm_ack_upto_);
      counters_.confirm += seq - confirm_ack_upto_;
    }
    confirm_ack_upto_ = seq;
    return;
  }
  flush_confirms();
  amqp::BasicNack nack;
  nack.delivery_tag = seq;
  reply(nack);
  confirm_acked_ = seq;
  confirm_ack_upto_ = seq;
}

void Channel::flush_confirms() {
  if (confirm_ack_upto_ <= confirm_acked_) return;
  amqp::BasicAck ack;
  ack.delivery_tag = confirm_ack_upto_;
  ack.multiple = confirm_ack_upto_ - confirm_acked_ > 1;
  reply(ack);
  confirm_acked_ = confirm_ack_upto_;
}

}  // namespace pulse::server
