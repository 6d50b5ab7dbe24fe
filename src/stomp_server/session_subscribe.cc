// SUBSCRIBE, UNSUBSCRIBE, ACK, NACK and deliveries (rabbit_stomp_processor's do_subscribe,
// cancel_subscription, ack_action and send_delivery over the broker's operations).
#include "base/log.h"
#include "broker/operations.h"
#include "server/consumer_timeout.h"
#include "stomp/serializer.h"
#include "stomp_server/mapping.h"
#include "stomp_server/session.h"

namespace pulse::stomp_server {

namespace {

const Failure kProcessingError{"Processing error", "Processing error"};

bool has_durable_header(const stomp::Frame& f) {
  return boolean_header(f, "durable") == true || boolean_header(f, "persistent") == true;
}

}  // namespace

std::pair<std::string, std::string> Session::routing(const stomp::Destination& d) const {
  auto r = stomp::routing_of(d);
  if (!r) return {"", d.name};
  if (d.kind == stomp::DestinationKind::topic)
    return {ctx_.options.default_topic_exchange, r->routing_key};
  return {r->exchange, r->routing_key};
}

Status Session::declare_queue(const std::string& name, bool durable, bool exclusive,
                              bool auto_delete, amqp::FieldTable args, std::string* out_name) {
  broker::QueueDeclare d;
  d.name = name;
  d.durable = durable;
  d.exclusive = exclusive;
  d.auto_delete = auto_delete;
  d.arguments = std::move(args);
  auto q = broker::ops::declare_queue(*principal_, std::move(d));
  if (!q) return std::move(q).error();
  if (out_name) *out_name = (*q)->name();
  return {};
}

// rabbit_routing_util:ensure_endpoint(source, ...): the queue a subscription consumes from.
Result<std::string> Session::ensure_source(const stomp::Destination& d, const stomp::Frame& f,
                                           bool& created) {
  created = false;
  auto args = queue_arguments(f);
  if (!args) return Error{0, "processing"};
  auto flag = [&](const char* name) {
    return f.header(name) ? string_to_boolean(*f.header(name)) : std::nullopt;
  };
  // build_params: persistent and durable both set durable (the later header in RabbitMQ's
  // last-first list wins, i.e. the earlier one in the frame); auto-delete; exclusive.
  std::optional<bool> durable;
  for (auto it = f.headers.rbegin(); it != f.headers.rend(); ++it)
    if ((it->name == "durable" || it->name == "persistent") && f.header(it->name) == &it->value)
      durable = string_to_boolean(it->value);
  std::optional<bool> auto_delete = flag("auto-delete");
  std::optional<bool> exclusive = flag("exclusive");
  switch (d.kind) {
    case stomp::DestinationKind::queue: {
      if (declared_queues_.contains(d.name)) return d.name;
      bool dur = durable.value_or(true);
      bool excl = dur ? false : true, ad = dur ? false : true;
      if (exclusive) excl = *exclusive;
      if (auto_delete) ad = *auto_delete;
      if (auto s = declare_queue(d.name, dur, excl, ad, std::move(*args)); !s)
        return std::move(s).error();
      declared_queues_.insert(d.name);
      return d.name;
    }
    case stomp::DestinationKind::exchange:
    case stomp::DestinationKind::topic: {
      bool dur = durable.value_or(false);
      // default_params: exclusive false, auto_delete true, unless the headers say otherwise.
      bool excl = exclusive.value_or(false);
      bool ad = auto_delete.value_or(true);
      std::string name;
      if (const std::string* qn = f.header("x-queue-name")) {
        name = *qn;
      } else if (has_durable_header(f)) {
        const std::string key =
            d.kind == stomp::DestinationKind::topic ? d.name : d.pattern.value_or("");
        name = subscription_queue_name(key, *f.header("id"));
      } else {
        name = random_subscription_queue_name();
      }
      std::string declared;
      if (auto s = declare_queue(name, dur, excl, ad, std::move(*args), &declared); !s)
        return std::move(s).error();
      created = true;
      return declared;
    }
    case stomp::DestinationKind::amq_queue:
    case stomp::DestinationKind::reply_queue:
      return d.name;
    case stomp::DestinationKind::temp_queue:
      break;
  }
  return Error{1, "invalid endpoint"};
}

Step Session::subscribe(const stomp::Frame& f) {
  const std::string* dest_hdr = f.header("destination");
  if (!dest_hdr)
    return Failure{"Missing destination", "\"SUBSCRIBE\" must include a 'destination' header\n"};
  auto dest = stomp::parse_destination(*dest_hdr);
  if (!dest) return Failure{dest.error().message, dest.error().detail};
  auto [exchange, key] = routing(*dest);
  if (dest->kind == stomp::DestinationKind::topic) {
    if (broker::Exchange* x = vhost_->find_exchange(exchange)) {
      if (auto s = principal_->check_topic(*x, key, auth::Access::kRead); !s)
        return death(s.error());
    }
  }
  std::optional<int64_t> prefetch;
  if (f.header("prefetch-count")) {
    prefetch = integer_header(f, "prefetch-count");
    if (!prefetch) return kProcessingError;
  }
  AckMode mode = AckMode::auto_ack;
  if (const std::string* a = f.header("ack")) {
    if (*a == "client")
      mode = AckMode::client;
    else if (*a == "client-individual")
      mode = AckMode::client_individual;
    else if (*a != "auto")
      return kProcessingError;
  }
  if (dest->kind == stomp::DestinationKind::temp_queue)
    return Failure{"Invalid destination",
                   "'" + *dest_hdr + "' is not a valid destination for 'SUBSCRIBE'\n"};
  std::string tag, description;
  if (const std::string* id = f.header("id")) {
    if (id->starts_with("/temp-queue/")) return kProcessingError;
    tag = "T_" + *id;
    description = "id='" + *id + "'";
  } else {
    tag = "Q_" + *dest_hdr;
    description = "destination='" + *dest_hdr + "'";
  }
  bool created = false;
  auto queue = ensure_source(*dest, f, created);
  if (!queue) {
    if (queue.error().code == 0) return kProcessingError;
    return death(queue.error());
  }
  if (prefetch) prefetch_ = static_cast<uint32_t>(*prefetch);
  if (subs_.contains(tag)) {
    return Failure{"Duplicated subscription identifier",
                   "A subscription identified by '" + tag + "' already exists.", true};
  }
  auto cleanup = [&] {
    if (!created) return;
    (void)broker::ops::delete_queue(*principal_, *queue, false, false);
  };
  auto grant = broker::ops::check_consume(*principal_, *queue, false, {});
  if (!grant) {
    cleanup();
    return death(grant.error());
  }
  auto sub = std::make_shared<Subscription>();
  sub->tag = tag;
  sub->dest_hdr = *dest_hdr;
  sub->description = description;
  sub->ack = mode;
  sub->queue = grant->queue;
  sub->prefetch = prefetch_;
  subs_[tag] = sub;
  auto c = std::make_unique<broker::Consumer>();
  c->tag = tag;
  c->sink = this;
  c->connection_id = id_;
  c->no_ack = mode == AckMode::auto_ack;
  c->priority = grant->priority;
  c->opaque = sub.get();
  sub->consumer = grant->queue->add_consumer(std::move(c));
  if (!exchange.empty()) {
    broker::Destination bd{false, *queue};
    if (auto s = broker::ops::bind(*principal_, exchange, bd, key, {}); !s) {
      subs_.erase(tag);
      remove_consumer(*sub);
      cleanup();
      return death(s.error());
    }
  }
  return std::nullopt;
}

void Session::remove_consumer(Subscription& s) {
  if (s.consumer == nullptr || !s.queue || s.queue->deleted()) {
    s.consumer = nullptr;
    return;
  }
  broker::Consumer* c = s.consumer;
  s.consumer = nullptr;
  if (s.queue->remove_consumer(c)) s.queue->vhost().remove_queue(*s.queue);
}

Step Session::unsubscribe(const stomp::Frame& f) {
  std::string tag, description;
  if (const std::string* id = f.header("id")) {
    if (id->starts_with("/temp-queue/"))
      return Failure{"Invalid id", "UNSUBSCRIBE 'id' may not start with /temp-queue/\n"};
    tag = "T_" + *id;
    description = "id='" + *id + "'";
  } else if (const std::string* d = f.header("destination")) {
    tag = "Q_" + *d;
    description = "destination='" + *d + "'";
  } else {
    return Failure{"Missing destination or id",
                   "UNSUBSCRIBE must include a 'destination' or 'id' header"};
  }
  auto it = subs_.find(tag);
  if (it == subs_.end()) {
    return Failure{"No subscription found",
                   "UNSUBSCRIBE must refer to an existing subscription.\nSubscription to " +
                       erl_quote(description) + " not found.\n"};
  }
  auto sub = it->second;
  subs_.erase(it);
  remove_consumer(*sub);
  auto dest = stomp::parse_destination(sub->dest_hdr);
  if (dest && dest->kind == stomp::DestinationKind::topic && has_durable_header(f)) {
    const std::string* qn = f.header("x-queue-name");
    std::string name = qn ? *qn : subscription_queue_name(dest->name, *f.header("id"));
    auto n = broker::ops::delete_queue(*principal_, name, false, false);
    if (!n) return death(n.error());
  }
  return std::nullopt;
}

Step Session::ack_action(const stomp::Frame& f, bool nack) {
  const char* command = nack ? "NACK" : "ACK";
  const char* header = version_ == stomp::Version::v1_2 ? "id" : "message-id";
  const std::string* value = f.header(header);
  if (!value) {
    return Failure{"Missing header",
                   erl_quote(command) + " must include the " + erl_quote(header) + " header\n"};
  }
  auto mid = parse_message_id(*value);
  if (!mid) {
    return Failure{"Invalid header",
                   erl_quote(command) + " must include a valid " + erl_quote(header) + " header\n"};
  }
  auto it = subs_.find(mid->tag);
  if (it == subs_.end()) {
    return Failure{"Subscription not found",
                   "Message with id " + erl_quote(*value) + " has no subscription"};
  }
  const bool multiple = it->second->ack == AckMode::client;
  Settle how = Settle::ack;
  if (nack) {
    auto requeue = boolean_header(f, "requeue");
    how = requeue.value_or(ctx_.options.default_nack_requeue) ? Settle::requeue : Settle::reject;
  }
  if (const std::string* tx = f.header("transaction")) {
    auto t = transactions_.find(*tx);
    if (t == transactions_.end())
      return Failure{"Bad transaction", "Invalid transaction identifier: " + erl_quote(*tx) + "\n"};
    TxAction a;
    a.is_send = false;
    a.tag = mid->delivery_tag;
    a.multiple = multiple;
    a.how = how;
    t->second.push_back(std::move(a));
    return std::nullopt;
  }
  return settle(mid->delivery_tag, multiple, how);
}

// basic.ack / basic.nack on the session's channel: delivery tags are channel-wide.
Step Session::settle(uint64_t tag, bool multiple, Settle how) {
  std::vector<Unacked> taken;
  auto it = std::lower_bound(unacked_.begin(), unacked_.end(), tag,
                             [](const Unacked& u, uint64_t t) { return u.tag < t; });
  if (it == unacked_.end() || it->tag != tag) {
    return death(Error{406, "PRECONDITION_FAILED - unknown delivery tag " + std::to_string(tag)});
  }
  auto first = multiple ? unacked_.begin() : it;
  for (auto i = first; i != it + 1; ++i) taken.push_back(std::move(*i));
  unacked_.erase(first, it + 1);
  for (auto& u : taken) settle_one(std::move(u), how);
  resume_deliveries();
  return std::nullopt;
}

void Session::settle_one(Unacked&& u, Settle how) {
  if (u.sub && u.sub->unacked > 0) --u.sub->unacked;
  if (u.queue->deleted()) return;
  switch (how) {
    case Settle::ack:
      ++counters_.ack;
      u.queue->settle_acked(u.message);
      break;
    case Settle::requeue:
      u.queue->requeue(std::move(u.message));
      break;
    case Settle::reject:
      u.queue->settle_rejected(std::move(u.message));
      break;
  }
}

void Session::resume_deliveries() {
  std::vector<broker::Queue*> queues;
  for (auto& [tag, s] : subs_) {
    if (s->consumer && s->queue && !s->queue->deleted() &&
        std::find(queues.begin(), queues.end(), s->queue.get()) == queues.end())
      queues.push_back(s->queue.get());
  }
  for (auto* q : queues) q->dispatch();
}

void Session::output_drained() {
  if (!ended_) resume_deliveries();
}

bool Session::can_take(const broker::Consumer& c) const {
  if (ended_ || closing_) return false;
  auto* s = static_cast<const Subscription*>(c.opaque);
  if (!c.no_ack && s->prefetch != 0 && s->unacked >= s->prefetch) return false;
  return transport_.pending_bytes() < ctx_.options.max_output_backlog;
}

void Session::deliver(broker::Consumer& c, broker::Queue& q, broker::QueuedMessage&& m) {
  auto* s = static_cast<Subscription*>(c.opaque);
  const uint64_t tag = ++next_delivery_tag_;
  const broker::Message& msg = *m.msg;
  ++(c.no_ack ? counters_.deliver_no_ack : counters_.deliver);
  if (m.redelivered) ++counters_.redeliver;
  stomp::Frame f;
  f.command = "MESSAGE";
  if (s->tag.starts_with("T_")) f.add("subscription", s->tag.substr(2));
  f.add("destination", format_destination(msg.exchange, msg.routing_key));
  std::string id = create_message_id(s->tag, session_id_, tag);
  f.add("message-id", id);
  f.add("redelivered", m.redelivered ? "true" : "false");
  if (s->ack != AckMode::auto_ack && version_ == stomp::Version::v1_2) f.add("ack", id);
  for (auto& h : message_headers(msg.properties())) f.headers.push_back(std::move(h));
  f.body = msg.body;
  send_frame(f);
  if (!c.no_ack) {
    ++s->unacked;
    auto it = subs_.find(s->tag);
    std::shared_ptr<Subscription> owner = it != subs_.end() ? it->second : nullptr;
    unacked_.push_back(Unacked{tag, q.shared_from_this(), std::move(m), std::move(owner),
                               server::coarse_now_ms()});
    unacked_delivery(unacked_.back().delivered_ms);
  }
}

void Session::cancelled_by_broker(broker::Consumer& c) {
  auto it = subs_.find(c.tag);
  if (it == subs_.end()) return;
  auto sub = it->second;
  sub->consumer = nullptr;
  subs_.erase(it);
  const std::string id = c.tag.size() > 2 ? c.tag.substr(2) : c.tag;
  send_error(Failure{"Server cancelled subscription",
                     "The server has canceled a subscription.\nNo more messages will be "
                     "delivered for " +
                         erl_quote(sub->description) + ".\n"},
             {{"subscription", id}});
}

}  // namespace pulse::stomp_server
