// SEND, reply-to temp queues, BEGIN/COMMIT/ABORT, and SEND receipts (rabbit_stomp_processor's
// do_send, ensure_reply_to, transactions and its confirm-based receipts).
#include "base/log.h"
#include "broker/operations.h"
#include "stomp_server/mapping.h"
#include "stomp_server/session.h"

namespace pulse::stomp_server {

namespace {}  // namespace

Result<std::string> Session::ensure_reply_queue(const std::string& temp_id) {
  if (auto it = reply_queues_.find(temp_id); it != reply_queues_.end()) return it->second;
  std::string name;
  if (auto s = declare_queue("", false, true, true, {}, &name); !s) return std::move(s).error();
  auto grant = broker::ops::check_consume(*principal_, name, false, {});
  if (!grant) return std::move(grant).error();
  auto sub = std::make_shared<Subscription>();
  sub->tag = "T_/temp-queue/" + temp_id;
  sub->dest_hdr = name;
  sub->ack = AckMode::auto_ack;
  sub->queue = grant->queue;
  subs_[sub->tag] = sub;
  auto c = std::make_unique<broker::Consumer>();
  c->tag = sub->tag;
  c->sink = this;
  c->connection_id = id_;
  c->no_ack = true;
  c->opaque = sub.get();
  sub->consumer = grant->queue->add_consumer(std::move(c));
  reply_queues_[temp_id] = name;
  return name;
}

Step Session::send(const stomp::Frame& frame) {
  if (ctx_.limits && ctx_.limits->alarmed && ctx_.limits->alarmed()) blocked_ = true;
  if (frame.header("message-id"))
    return Failure{"Invalid header", "'message-id' is not allowed on 'SEND'.\n"};
  const std::string* dest_hdr = frame.header("destination");
  if (!dest_hdr)
    return Failure{"Missing destination", "\"SEND\" must include a 'destination' header\n"};
  auto dest = stomp::parse_destination(*dest_hdr);
  if (!dest) return Failure{dest.error().message, dest.error().detail};
  // ensure_endpoint(dest, ...): /queue/ declares its queue (once per session).
  if (dest->kind == stomp::DestinationKind::temp_queue)
    return Failure{"Invalid destination",
                   "'" + *dest_hdr + "' is not a valid destination for 'SEND'\n"};
  if (dest->kind == stomp::DestinationKind::queue && !declared_queues_.contains(dest->name)) {
    bool created = false;
    auto q = ensure_source(*dest, frame, created);
    if (!q) {
      if (q.error().code == 0) return Failure{"Processing error", "Processing error"};
      return death(q.error());
    }
  }
  stomp::Frame f = frame;
  if (const std::string* reply_to = f.header("reply-to")) {
    auto rd = stomp::parse_destination(*reply_to);
    if (rd && rd->kind == stomp::DestinationKind::temp_queue) {
      auto q = ensure_reply_queue(rd->name);
      if (!q) return death(q.error());
      for (auto& h : f.headers)
        if (h.name == "reply-to") {
          h.value = *q;
          break;
        }
    }
  }
  amqp::BasicProperties props = message_properties(f);
  if (f.header("priority") && !integer_header(f, "priority"))
    return Failure{"Processing error", "Processing error"};
  if (f.header("timestamp") && !integer_header(f, "timestamp"))
    return Failure{"Processing error", "Processing error"};
  auto [exchange, key] = routing(*dest);
  std::optional<std::string> receipt;
  if (const std::string* r = f.header("receipt")) receipt = *r;
  if (const std::string* tx = f.header("transaction")) {
    auto t = transactions_.find(*tx);
    if (t == transactions_.end())
      return Failure{"Bad transaction", "Invalid transaction identifier: " + erl_quote(*tx) + "\n"};
    TxAction a;
    a.exchange = exchange;
    a.routing_key = key;
    a.props = std::move(props);
    a.body = std::move(f.body);
    a.receipt = receipt;
    t->second.push_back(std::move(a));
    return std::nullopt;
  }
  return publish(exchange, key, std::move(props), std::move(f.body), receipt);
}

Step Session::publish(const std::string& exchange, const std::string& key,
                      amqp::BasicProperties props, std::string body,
                      const std::optional<std::string>& receipt) {
  auto msg = std::make_shared<broker::Message>();
  msg->exchange = exchange;
  msg->routing_key = key;
  msg->body = std::move(body);
  msg->set_properties(std::move(props));
  ++counters_.publish;
  vhost_->count(&broker::MessageCounters::publish);
  auto outcome = broker::ops::publish(*principal_, msg);
  if (!outcome) return death(outcome.error());
  auto event = outcome->routed > 0 ? &broker::MessageCounters::routed
                                   : &broker::MessageCounters::drop_unroutable;
  vhost_->count(event);
  ++(counters_.*event);
  if (receipt) {
    auto& durability = ctx_.broker.durability();
    uint64_t epoch = outcome->needs_sync ? durability.write_epoch() : 0;
    if (pending_receipts_.empty() && (epoch == 0 || epoch <= durability.synced_epoch())) {
      send_receipt(*receipt);
    } else {
      pending_receipts_.emplace_back(epoch, *receipt);
      if (!sync_waiting_) {
        durability.add_waiter(this);
        sync_waiting_ = true;
      }
    }
  }
  return std::nullopt;
}

void Session::on_synced(uint64_t epoch, bool ok) {
  if (ended_) return;
  while (!pending_receipts_.empty() && pending_receipts_.front().first <= epoch) {
    if (ok) send_receipt(pending_receipts_.front().second);
    pending_receipts_.pop_front();
  }
  if (pending_receipts_.empty() && sync_waiting_) {
    ctx_.broker.durability().remove_waiter(this);
    sync_waiting_ = false;
  }
}

Step Session::transaction(const stomp::Frame& f, bool& handled) {
  handled = true;
  const std::string& c = f.command;
  const std::string* tx = f.header("transaction");
  if (!tx)
    return Failure{"Missing transaction", erl_quote(c) + " must include a 'transaction' header\n"};
  if (c == "BEGIN") {
    transactions_[*tx].clear();
    return std::nullopt;
  }
  auto it = transactions_.find(*tx);
  if (it == transactions_.end())
    return Failure{"Bad transaction", "Invalid transaction identifier: " + erl_quote(*tx) + "\n"};
  auto actions = std::move(it->second);
  transactions_.erase(it);
  if (c == "ABORT") return std::nullopt;
  for (auto& a : actions) {
    Step s = a.is_send ? publish(a.exchange, a.routing_key, std::move(a.props), std::move(a.body),
                                 a.receipt)
                       : settle(a.tag, a.multiple, a.how);
    if (s) return s;
  }
  return std::nullopt;
}

}  // namespace pulse::stomp_server
