#include "broker/vhost.h"

#include <algorithm>

#include "amqp/generated/constants.h"
#include "broker/broker.h"
#include "broker/names.h"

namespace pulse::broker {

std::string resource_name(const char* kind, const std::string& name, const std::string& vhost) {
  return std::string(kind) + " '" + name + "' in vhost '" + vhost + "'";
}

namespace {

Error resource_locked(const std::string& what) {
  return Error{amqp::kResourceLocked,
               "RESOURCE_LOCKED - cannot obtain exclusive access to locked " + what +
                   ". It could be originally declared on another connection or the exclusive "
                   "property value does not match that of the original declaration."};
}

std::string bool_text(bool b) {
  return b ? "'true'" : "'false'";
}

Error inequivalent(const std::string& field, const std::string& what, const std::string& received,
                   const std::string& current) {
  return precondition_failed("inequivalent arg '" + field + "' for " + what + ": received " +
                             received + " but current is " + current);
}

// RabbitMQ compares integer-typed values by value, regardless of the exact integer type.
bool equivalent_values(const amqp::FieldValue* a, const amqp::FieldValue* b) {
  if (!a || !b) return a == b;
  auto ia = a->as_int(), ib = b->as_int();
  if (ia && ib) return *ia == *ib;
  return *a == *b;
}

std::string value_desc(const amqp::FieldValue* v) {
  if (!v) return "none";
  return "the value '" + rabbit_value_text(*v) + "' of type '" + rabbit_type_name(*v) + "'";
}

// Integer types form one class, as do float and double (RabbitMQ's type_class).
char type_class(const amqp::FieldValue& v) {
  if (v.as_int()) return 'i';
  if (v.tag() == 'f' || v.tag() == 'd') return 'f';
  return v.tag();
}

Status check_args_equivalent(const amqp::FieldTable& current, const amqp::FieldTable& requested,
                             const std::string& what, std::initializer_list<const char*> keys) {
  static const amqp::FieldValue kClassic{std::string("classic")};
  for (const char* key : keys) {
    const amqp::FieldValue* c = amqp::find(current, key);
    const amqp::FieldValue* r = amqp::find(requested, key);
    // A queue declared without x-queue-type is a classic queue.
    if (std::string_view(key) == "x-queue-type") {
      if (!c && r && *r == kClassic) continue;
      if (!r && c && *c == kClassic) continue;
    }
    if (equivalent_values(c, r)) continue;
    if (c && r && type_class(*c) == type_class(*r)) {
      return inequivalent(key, what, "'" + rabbit_value_text(*r) + "'",
                          "'" + rabbit_value_text(*c) + "'");
    }
    return inequivalent(key, what, value_desc(r), value_desc(c));
  }
  return {};
}

// head ++ lists:keydelete(Name, 1, Old).
LimitList keydelete_after(LimitList head, const std::optional<LimitList>& old,
                          const std::string& name) {
  if (old) {
    for (const auto& e : *old)
      if (e.first != name) head.push_back(e);
  }
  return head;
}

}  // namespace

VHost::VHost(Broker& broker, std::string name)
    : broker_(broker), name_(std::move(name)), node_messages_(broker.message_counters()) {
  declare_default_exchanges();
}

VHost::~VHost() {
  for (auto& [n, q] : queues_) q->mark_deleted();
}

void VHost::set_metadata(VHostMetadata m) {
  if (m == metadata_) return;
  metadata_ = std::move(m);
  if (auto* o = observer()) o->on_vhost_metadata_changed(*this);
}

void VHost::set_limits(std::optional<LimitList> limits) {
  if (limits == limits_) return;
  limits_ = std::move(limits);
  if (auto* o = observer()) o->on_vhost_limits_changed(*this);
}

// rabbit_vhost_limit:update_limit: [{Name, Value} | lists:keydelete(Name, 1, Old)].
void VHost::set_limit(const std::string& name, int64_t value) {
  set_limits(keydelete_after({{name, value}}, limits_, name));
}

void VHost::clear_limit(const std::string& name) {
  set_limits(keydelete_after({}, limits_, name));
}

void VHost::declare_default_exchanges() {
  auto add = [this](const std::string& n, ExchangeType t, bool internal = false) {
    exchanges_[n] = std::make_unique<Exchange>(n, t, true, false, internal, amqp::FieldTable{});
  };
  add("", ExchangeType::kDirect);
  add("amq.direct", ExchangeType::kDirect);
  add("amq.fanout", ExchangeType::kFanout);
  add("amq.topic", ExchangeType::kTopic);
  add("amq.headers", ExchangeType::kHeaders);
  add("amq.match", ExchangeType::kHeaders);
  add("amq.rabbitmq.trace", ExchangeType::kTopic, true);
}

std::string VHost::describe_exchange(const std::string& name) const {
  return resource_name("exchange", name, name_);
}

Exchange* VHost::find_exchange(std::string_view name) {
  auto it = exchanges_.find(name);
  return it == exchanges_.end() ? nullptr : it->second.get();
}

Result<Exchange*> VHost::lookup_exchange(const std::string& name) {
  if (Exchange* x = find_exchange(name)) return x;
  return not_found("exchange", name, name_);
}

Result<Exchange*> VHost::declare_exchange(const ExchangeDeclare& d) {
  if (d.passive) {
    if (d.name.empty()) return find_exchange("");
    return lookup_exchange(d.name);
  }
  auto type = parse_exchange_type(d.type);
  if (!type) return unknown_exchange_type(d.type);
  if (d.name.empty()) return default_exchange_refused();
  if (Exchange* x = find_exchange(d.name)) {
    const std::string what = describe_exchange(d.name);
    if (x->type() != *type) {
      return inequivalent("type", what, std::string("'") + d.type + "'",
                          std::string("'") + exchange_type_name(x->type()) + "'");
    }
    if (x->durable() != d.durable)
      return inequivalent("durable", what, bool_text(d.durable), bool_text(x->durable()));
    if (x->auto_delete() != d.auto_delete)
      return inequivalent("auto_delete", what, bool_text(d.auto_delete),
                          bool_text(x->auto_delete()));
    if (x->internal() != d.internal)
      return inequivalent("internal", what, bool_text(d.internal), bool_text(x->internal()));
    if (auto s = check_args_equivalent(x->arguments(), d.arguments, what, {"alternate-exchange"});
        !s)
      return std::move(s).error();
    return x;
  }
  // Only new exchanges are refused the reserved prefix: redeclaring amq.direct is fine.
  if (is_reserved_name(d.name)) return reserved_name_refused("exchange", d.name);
  auto x =
      std::make_unique<Exchange>(d.name, *type, d.durable, d.auto_delete, d.internal, d.arguments);
  if (!policies_.empty()) x->set_policy(select_exchange_policy(policies_, d.name));
  Exchange* raw = x.get();
  exchanges_[d.name] = std::move(x);
  if (auto* o = observer()) o->on_exchange_declared(*this, *raw);
  return raw;
}

Status VHost::delete_exchange(const std::string& name, bool if_unused) {
  if (name.empty()) return default_exchange_refused();
  if (is_reserved_name(name)) return system_exchange_deletion_refused(name, name_);
  auto it = exchanges_.find(name);
  if (it == exchanges_.end()) return {};
  if (if_unused && it->second->has_bindings()) {
    return precondition_failed(describe_exchange(name) + " in use");
  }
  // Auto-delete exchanges emptied by this deletion go too, and may empty others in turn. A
  // worklist rather than recursion: a client can chain tens of thousands of them with
  // exchange.bind, which overflowed the stack.
  std::vector<std::string> doomed{name};
  while (!doomed.empty()) {
    const std::string gone = std::move(doomed.back());
    doomed.pop_back();
    auto it_gone = exchanges_.find(gone);
    if (it_gone == exchanges_.end()) continue;
    // Kept alive until the observer has seen it.
    std::unique_ptr<Exchange> removed = std::move(it_gone->second);
    exchanges_.erase(it_gone);
    if (auto* o = observer()) o->on_exchange_deleted(*this, *removed);
    Destination self{true, gone};
    for (auto& [n, x] : exchanges_) {
      bool had = x->has_bindings();
      x->remove_bindings_to(self);
      if (had && !x->has_bindings() && x->auto_delete() && !is_builtin_exchange(n))
        doomed.push_back(n);
    }
  }
  return {};
}

DefinitionsObserver* VHost::observer() const {
  return broker_.definitions_observer();
}

void VHost::maybe_auto_delete_exchange(const std::string& name) {
  Exchange* x = find_exchange(name);
  if (x && x->auto_delete() && !x->has_bindings() && !is_builtin_exchange(name)) {
    (void)delete_exchange(name, false);
  }
}

Result<QueuePtr> VHost::lookup_queue(const std::string& name, uint64_t connection_id) {
  auto it = queues_.find(name);
  if (it == queues_.end()) {
    return not_found("queue", name, name_);
  }
  const QueuePtr& q = it->second;
  if (q->exclusive() && q->exclusive_owner() != connection_id) {
    return resource_locked(q->describe());
  }
  return q;
}

QueuePtr VHost::find_queue(std::string_view name) {
  auto it = queues_.find(name);
  return it == queues_.end() ? nullptr : it->second;
}

Result<QueuePtr> VHost::declare_queue(QueueDeclare d) {
  if (d.passive) {
    auto q = lookup_queue(d.name, d.connection_id);
    if (q) (*q)->touch();
    return q;
  }
  if (d.name.empty()) {
    d.name = broker_.generate_name("amq.gen-");
  } else if (!d.server_named && is_reserved_name(d.name)) {
    return reserved_name_refused("queue", d.name);
  }
  const std::string what = resource_name("queue", d.name, name_);
  if (auto it = queues_.find(d.name); it != queues_.end()) {
    QueuePtr q = it->second;
    if (q->exclusive() != d.exclusive ||
        (q->exclusive() && q->exclusive_owner() != d.connection_id)) {
      return resource_locked(what);
    }
    if (q->durable() != d.durable)
      return inequivalent("durable", what, bool_text(d.durable), bool_text(q->durable()));
    if (q->auto_delete() != d.auto_delete)
      return inequivalent("auto_delete", what, bool_text(d.auto_delete),
                          bool_text(q->auto_delete()));
    if (auto s = check_args_equivalent(
            q->arguments(), d.arguments, what,
            {"x-expires", "x-message-ttl", "x-dead-letter-exchange", "x-dead-letter-routing-key",
             "x-max-length", "x-max-length-bytes", "x-max-priority", "x-overflow",
             "x-single-active-consumer", "x-queue-type", "x-delivery-limit"});
        !s)
      return std::move(s).error();
    q->touch();
    ++broker_.node_counters().queues_declared;
    return q;
  }
  auto args = parse_queue_args(d.arguments, what);
  if (!args) return std::move(args).error();
  if (args->quorum && (d.exclusive || d.auto_delete || !d.durable)) {
    const char* field = d.auto_delete ? "auto-delete"
                        : d.exclusive ? "exclusive-owner"
                                      : "non-durable";
    return precondition_failed("invalid property '" + std::string(field) + "' for " + what);
  }
  PolicyPtr policy =
      policies_.empty() ? nullptr : select_queue_policy(policies_, d.name, args->quorum);
  QueueArgs effective = effective_queue_args(*args, d.arguments, policy.get());
  auto q = std::make_shared<Queue>(*this, broker_.next_id(), d.name, d.durable, d.exclusive,
                                   d.auto_delete, d.exclusive ? d.connection_id : 0,
                                   std::move(d.arguments), effective);
  if (policy) q->apply_policy(std::move(policy), std::move(effective));
  queues_[q->name()] = q;
  ++broker_.node_counters().queues_declared;
  ++broker_.node_counters().queues_created;
  if (auto* o = observer()) o->on_queue_declared(*this, *q);
  q->schedule_timer();
  return q;
}

Result<size_t> VHost::delete_queue(const std::string& name, bool if_unused, bool if_empty,
                                   uint64_t connection_id) {
  auto it = queues_.find(name);
  if (it == queues_.end()) return size_t{0};
  auto found = lookup_queue(name, connection_id);
  if (!found) return std::move(found).error();
  QueuePtr q = *found;
  if (if_unused && q->consumer_count() > 0) return precondition_failed(q->describe() + " in use");
  if (if_empty && q->message_count() > 0) return precondition_failed(q->describe() + " not empty");
  size_t n = q->message_count();
  remove_queue(*q);
  return n;
}

Result<size_t> VHost::purge_queue(const std::string& name, uint64_t connection_id) {
  auto q = lookup_queue(name, connection_id);
  if (!q) return std::move(q).error();
  return (*q)->purge();
}

void VHost::remove_queue(Queue& q) {
  QueuePtr keep = q.shared_from_this();
  queues_.erase(q.name());
  ++broker_.node_counters().queues_deleted;
  Destination self{false, q.name()};
  std::vector<std::string> emptied;
  for (auto& [n, x] : exchanges_) {
    bool had = x->has_bindings();
    x->remove_bindings_to(self);
    if (had && !x->has_bindings() && x->auto_delete()) emptied.push_back(n);
  }
  q.mark_deleted();
  if (auto* o = observer()) o->on_queue_deleted(*this, q);
  for (const auto& n : emptied) maybe_auto_delete_exchange(n);
}

void VHost::connection_closed(uint64_t connection_id) {
  std::vector<QueuePtr> owned;
  for (auto& [n, q] : queues_)
    if (q->exclusive() && q->exclusive_owner() == connection_id) owned.push_back(q);
  for (auto& q : owned) remove_queue(*q);
}

void VHost::schedule_queue_timer(Queue& q, TimePoint when) {
  broker_.schedule(q, when);
}

}  // namespace pulse::broker
