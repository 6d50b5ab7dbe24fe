// Routing, publishing and dead lettering.
#include <algorithm>
#include <chrono>

#include "amqp/generated/constants.h"
#include "broker/vhost.h"

namespace pulse::broker {

namespace {

using amqp::FieldArray;
using amqp::FieldTable;
using amqp::FieldValue;

// The routing keys of a message: its own key, then CC and BCC header keys (sender-selected
// distribution). Non-string entries are ignored as RabbitMQ does.
void collect_keys(const Message& msg, std::vector<std::string_view>& keys) {
  keys.push_back(msg.routing_key);
  for (const auto& k : msg.bcc_keys) keys.push_back(k);
  if (!msg.has(amqp::BasicProperties::kHeaders)) return;
  for (const char* h : {"CC", "BCC"}) {
    if (const FieldValue* v = amqp::find(msg.properties().headers, h)) {
      if (const FieldArray* a = v->as_array()) {
        for (const auto& e : *a)
          if (const std::string* s = e.as_string()) keys.push_back(*s);
      }
    }
  }
}

}  // namespace

void VHost::route(const Exchange& start, const Message& msg, std::vector<Queue*>& out) {
  const uint64_t epoch = ++route_epoch_;
  // Members, reused: routing allocates nothing in steady state. route() never re-enters itself
  // (enqueueing, which may dead-letter and route again, happens after it returns).
  auto& keys = route_keys_;
  auto& pending = route_pending_;
  auto& seen = route_seen_;
  auto& dests = route_dests_;
  keys.clear();
  collect_keys(msg, keys);
  pending.assign(1, &start);
  seen.assign(1, &start);
  // Looked up in place: a QueuePtr copy per destination would cost two atomic operations.
  auto add_queue = [&](std::string_view name) {
    auto it = queues_.find(name);
    Queue* q = it == queues_.end() ? nullptr : it->second.get();
    if (q && q->route_mark != epoch) {
      q->route_mark = epoch;
      out.push_back(q);
    }
  };
  auto visit_exchange = [&](const std::string& name) {
    const Exchange* x = find_exchange(name);
    if (!x) return;
    for (const Exchange* s : seen)
      if (s == x) return;
    seen.push_back(x);
    pending.push_back(x);
  };
  while (!pending.empty()) {
    const Exchange* x = pending.back();
    pending.pop_back();
    if (x->name().empty()) {
      // The default exchange routes to the queue named by the key.
      size_t before = out.size();
      for (auto k : keys) add_queue(k);
      if (out.size() == before && x->alternate_exchange()) visit_exchange(*x->alternate_exchange());
      continue;
    }
    dests.clear();
    for (auto k : keys) x->route(msg, k, dests);
    if (dests.empty() && x->alternate_exchange()) visit_exchange(*x->alternate_exchange());
    for (const Destination* d : dests) {
      if (d->is_exchange) {
        visit_exchange(d->name);
      } else {
        add_queue(d->name);
      }
    }
  }
}

Result<PublishOutcome> VHost::publish(Message&& msg) {
  return publish(std::make_shared<Message>(std::move(msg)));
}

Result<PublishOutcome> VHost::publish(const std::shared_ptr<Message>& shared) {
  Exchange* x = find_exchange(shared->exchange);
  if (!x) return not_found("exchange", shared->exchange, name_);
  return publish(*x, shared);
}

Result<PublishOutcome> VHost::publish(Exchange& x, const std::shared_ptr<Message>& shared) {
  Message& msg = *shared;
  route_scratch_.clear();
  route(x, msg, route_scratch_);
  x.count_publish(route_scratch_.size());
  // BCC recipients must not see each other: the header is stripped after routing.
  if (msg.has(amqp::BasicProperties::kHeaders)) {
    if (const FieldValue* bcc = amqp::find(msg.properties().headers, "BCC")) {
      if (const FieldArray* a = bcc->as_array())
        for (const auto& e : *a)
          if (const std::string* k = e.as_string()) msg.bcc_keys.push_back(*k);
      amqp::BasicProperties props = msg.properties();
      amqp::erase(props.headers, "BCC");
      msg.set_properties(std::move(props));
    }
  }
  PublishOutcome outcome;
  outcome.routed = route_scratch_.size();
  if (route_scratch_.empty()) return outcome;
  // Enqueueing may dead-letter and re-enter routing, so work on a copy of the scratch list.
  std::vector<Queue*> targets;
  targets.swap(route_scratch_);
  for (Queue* q : targets) {
    switch (q->enqueue(MessagePtr(shared))) {
      case EnqueueOutcome::kRejected:
        outcome.rejected = true;
        break;
      case EnqueueOutcome::kQueuedDurable:
        outcome.needs_sync = true;
        break;
      case EnqueueOutcome::kQueued:
        break;
    }
  }
  targets.clear();
  if (route_scratch_.capacity() < targets.capacity()) route_scratch_.swap(targets);
  return outcome;
}

namespace {

const std::string* table_string(const FieldTable& t, const char* key) {
  const FieldValue* v = amqp::find(t, key);
  return v ? v->as_string() : nullptr;
}

// RabbitMQ drops a dead-lettered message instead of looping forever when it would return to
// a queue it already died in, unless a client rejection is part of that cycle.
bool is_cycle(const std::string& queue, const FieldArray& deaths) {
  for (const auto& d : deaths) {
    const FieldTable* t = d.as_table();
    if (!t) return false;
    const std::string* reason = table_string(*t, "reason");
    if (reason && *reason == "rejected") return false;
    const std::string* q = table_string(*t, "queue");
    if (q && *q == queue) return true;
  }
  return false;
}

void update_x_death(FieldTable& headers, const FieldTable& info, const std::string& queue,
                    const std::string& reason, const std::string& exchange) {
  FieldValue* existing = amqp::find(headers, "x-death");
  FieldArray* deaths = existing ? std::get_if<FieldArray>(&existing->v) : nullptr;
  if (existing && !deaths) {
    // Not an array (a client rewrote it): RabbitMQ resets it, without x-first-death-*.
    FieldTable entry;
    entry.emplace_back("count", int64_t{1});
    entry.insert(entry.end(), info.begin(), info.end());
    *existing = FieldValue(FieldArray{FieldValue(std::move(entry))});
    return;
  }
  if (!deaths) {
    amqp::set(headers, "x-first-death-reason", reason);
    amqp::set(headers, "x-first-death-queue", queue);
    amqp::set(headers, "x-first-death-exchange", exchange);
    FieldTable entry;
    entry.emplace_back("count", int64_t{1});
    entry.insert(entry.end(), info.begin(), info.end());
    amqp::set(headers, "x-death", FieldArray{FieldValue(std::move(entry))});
    return;
  }
  FieldArray updated;
  std::optional<FieldTable> match;
  for (auto& d : *deaths) {
    const FieldTable* t = d.as_table();
    const std::string* q = t ? table_string(*t, "queue") : nullptr;
    const std::string* r = t ? table_string(*t, "reason") : nullptr;
    if (!match && q && r && *q == queue && *r == reason) {
      match = *t;
    } else {
      updated.push_back(std::move(d));
    }
  }
  FieldTable entry;
  if (match) {
    entry = std::move(*match);
    if (FieldValue* c = amqp::find(entry, "count")) {
      *c = FieldValue(int64_t{c->as_int().value_or(0) + 1});
    }
  } else {
    entry.emplace_back("count", int64_t{1});
    entry.insert(entry.end(), info.begin(), info.end());
  }
  // RabbitMQ re-sorts an updated entry by key.
  std::sort(entry.begin(), entry.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  updated.insert(updated.begin(), FieldValue(std::move(entry)));
  amqp::set(headers, "x-death", std::move(updated));
}

}  // namespace

void VHost::dead_letter(Queue& from, QueuedMessage&& m, DeadLetterReason reason) {
  const auto& dlx_name = from.args().dead_letter_exchange;
  if (!dlx_name) return;
  Exchange* dlx = find_exchange(*dlx_name);
  if (!dlx) return;
  Message msg = *m.msg;
  amqp::BasicProperties props = msg.properties();
  if (!props.has(amqp::BasicProperties::kHeaders)) props.set_headers({});
  const auto& dlrk = from.args().dead_letter_routing_key;

  // The entry's routing keys are the message's key and CC keys, even when the dead-letter
  // routing key then drops CC (RabbitMQ 3.10 removes CC after recording the death).
  FieldArray death_keys{FieldValue(msg.routing_key)};
  if (const FieldValue* cc = amqp::find(props.headers, "CC")) {
    if (const FieldArray* a = cc->as_array())
      for (const auto& e : *a)
        if (e.as_string()) death_keys.push_back(e);
  }
  FieldTable info;
  info.emplace_back("reason", std::string(reason_name(reason)));
  info.emplace_back("queue", from.name());
  auto now = std::chrono::system_clock::now().time_since_epoch();
  info.emplace_back("time", amqp::Timestamp{static_cast<uint64_t>(
                                std::chrono::duration_cast<std::chrono::seconds>(now).count())});
  info.emplace_back("exchange", msg.exchange);
  info.emplace_back("routing-keys", std::move(death_keys));
  if (props.has(amqp::BasicProperties::kExpiration)) {
    info.emplace_back("original-expiration", props.expiration);
    props.flags &= static_cast<uint16_t>(~amqp::BasicProperties::kExpiration);
    props.expiration.clear();
  }
  // A new entry keeps this order (count prepended): reason, queue, time, exchange,
  // routing-keys, original-expiration, as RabbitMQ 3.10 writes it.
  update_x_death(props.headers, info, from.name(), reason_name(reason), msg.exchange);
  // RabbitMQ sets these headers with rabbit_misc:set_table_value, which key-sorts the table.
  std::stable_sort(props.headers.begin(), props.headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  if (dlrk) amqp::erase(props.headers, "CC");
  msg.exchange = *dlx_name;
  if (dlrk) {
    msg.routing_key = *dlrk;
    msg.bcc_keys.clear();
  }
  msg.set_properties(std::move(props));

  std::vector<Queue*> targets;
  route(*dlx, msg, targets);
  const FieldArray* deaths = amqp::find(msg.properties().headers, "x-death")->as_array();
  if (reason != DeadLetterReason::kRejected) {
    std::erase_if(targets, [&](Queue* q) { return is_cycle(q->name(), *deaths); });
  }
  if (targets.empty()) return;
  auto shared = std::make_shared<const Message>(std::move(msg));
  for (Queue* q : targets) (void)q->enqueue(shared);
}

}  // namespace pulse::broker
