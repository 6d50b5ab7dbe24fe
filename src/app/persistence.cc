#include "app/persistence.h"

#include <nlohmann/json.hpp>

#include "amqp/field_table.h"
#include "app/definitions.h"
#include "base/bytes.h"
#include "base/log.h"
#include "broker/names.h"

namespace pulse::app {
namespace {

std::vector<uint8_t> encode_args(const amqp::FieldTable& t) {
  std::string buf;
  ByteWriter w(buf);
  amqp::encode_table(w, t);
  return {buf.begin(), buf.end()};
}

store::ExchangeDef exchange_def(const broker::VHost& vh, const broker::Exchange& x) {
  store::ExchangeDef d;
  d.vhost = vh.name();
  d.name = x.name();
  d.type = broker::exchange_type_name(x.type());
  d.durable = x.durable();
  d.auto_delete = x.auto_delete();
  d.internal = x.internal();
  d.arguments = encode_args(x.arguments());
  return d;
}

store::BindingDef binding_def(const broker::VHost& vh, const broker::Binding& b) {
  store::BindingDef d;
  d.vhost = vh.name();
  d.source = b.source;
  d.destination = b.destination.name;
  d.destination_is_exchange = b.destination.is_exchange;
  d.routing_key = b.routing_key;
  d.arguments = encode_args(b.arguments);
  return d;
}

}  // namespace

std::string encode_vhost_metadata(const broker::VHostMetadata& m) {
  nlohmann::json j = {{"description", m.description}, {"tags", m.tags}};
  if (!m.default_queue_type.empty()) j["default_queue_type"] = m.default_queue_type;
  return j.dump();
}

broker::VHostMetadata decode_vhost_metadata(std::string_view text) {
  broker::VHostMetadata m;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return m;
  if (auto it = j.find("description"); it != j.end() && it->is_string()) m.description = *it;
  if (auto it = j.find("tags"); it != j.end() && it->is_array())
    for (const auto& t : *it)
      if (t.is_string()) m.tags.push_back(t);
  if (auto it = j.find("default_queue_type"); it != j.end() && it->is_string())
    m.default_queue_type = *it;
  return m;
}

bool is_durable(const broker::Exchange& x) {
  return x.durable() && !broker::is_builtin_exchange(x.name());
}

bool is_durable(const broker::Queue& q) {
  // RabbitMQ drops exclusive queues at restart whatever their durable flag says.
  return q.durable() && !q.exclusive();
}

bool is_durable(broker::VHost& vhost, const broker::Binding& b) {
  const broker::Exchange* src = vhost.find_exchange(b.source);
  if (!src || !src->durable()) return false;
  if (b.destination.is_exchange) {
    const broker::Exchange* dst = vhost.find_exchange(b.destination.name);
    return dst && dst->durable();
  }
  broker::QueuePtr q = vhost.find_queue(b.destination.name);
  return q && is_durable(*q);
}

void DefinitionsPersister::record(Status s, std::string_view what) {
  if (s) {
    if (queues_) queues_->definitions_changed();
    return;
  }
  ++failures_;
  spdlog::error("definitions store: {} failed: {}", what, s.error().text);
  if (!first_error_) first_error_ = std::move(s).error();
}

std::optional<Error> DefinitionsPersister::take_error() {
  return std::exchange(first_error_, std::nullopt);
}

void DefinitionsPersister::on_vhost_added(const std::string& vhost) {
  record(store_.put_vhost(store::VHostDef{vhost, ""}), "put vhost '" + vhost + "'");
}

void DefinitionsPersister::on_vhost_metadata_changed(const broker::VHost& vhost) {
  record(store_.put_vhost(store::VHostDef{vhost.name(), encode_vhost_metadata(vhost.metadata())}),
         "put vhost '" + vhost.name() + "'");
}

void DefinitionsPersister::on_vhost_deleted(const std::string& vhost) {
  record(store_.delete_vhost(vhost), "delete vhost '" + vhost + "'");
}

void DefinitionsPersister::on_exchange_declared(broker::VHost& vhost, const broker::Exchange& x) {
  if (!is_durable(x)) return;
  record(store_.put_exchange(exchange_def(vhost, x)), "put exchange '" + x.name() + "'");
}

void DefinitionsPersister::on_exchange_deleted(broker::VHost& vhost, const broker::Exchange& x) {
  if (!is_durable(x)) return;
  record(store_.delete_exchange(vhost.name(), x.name()), "delete exchange '" + x.name() + "'");
}

void DefinitionsPersister::on_queue_declared(broker::VHost& vhost, broker::Queue& q) {
  if (!is_durable(q)) return;
  store::QueueDef d;
  d.vhost = vhost.name();
  d.name = q.name();
  const amqp::FieldValue* type = amqp::find(q.arguments(), "x-queue-type");
  const std::string* type_name = type ? type->as_string() : nullptr;
  d.type = type_name ? *type_name : "classic";
  d.durable = true;
  d.auto_delete = q.auto_delete();
  d.arguments = encode_args(q.arguments());
  auto id = store_.put_queue(d);
  if (!id) {
    record(Status(std::move(id).error()), "put queue '" + q.name() + "'");
    return;
  }
  // The queue's message directory is named by its row id.
  if (queues_) record(queues_->attach_durable(q, *id), "open messages of " + q.describe());
}

void DefinitionsPersister::on_queue_deleted(broker::VHost& vhost, const broker::Queue& q) {
  if (!is_durable(q)) return;
  record(store_.delete_queue(vhost.name(), q.name()), "delete queue '" + q.name() + "'");
}

void DefinitionsPersister::on_binding_added(broker::VHost& vhost, const broker::Binding& b) {
  if (!is_durable(vhost, b)) return;
  record(store_.add_binding(binding_def(vhost, b)), "add binding from '" + b.source + "'");
}

void DefinitionsPersister::on_binding_removed(broker::VHost& vhost, const broker::Binding& b) {
  if (!is_durable(vhost, b)) return;
  record(store_.delete_binding(binding_def(vhost, b)), "delete binding from '" + b.source + "'");
}

void DefinitionsPersister::on_policy_set(broker::VHost& vhost, const broker::Policy& p) {
  store::PolicyDef d;
  d.vhost = vhost.name();
  d.name = p.name();
  d.pattern = p.pattern();
  d.apply_to = broker::apply_to_name(p.apply_to());
  d.priority = p.priority();
  d.definition = field_table_to_json(p.definition()).dump();
  record(store_.put_policy(d), "put policy '" + p.name() + "'");
}

void DefinitionsPersister::on_policy_cleared(broker::VHost& vhost, const std::string& name) {
  record(store_.delete_policy(vhost.name(), name, /*operator_policy=*/false),
         "delete policy '" + name + "'");
}

void DefinitionsPersister::on_global_parameter_set(const std::string& name,
                                                   const std::string& value_json) {
  record(store_.put_kv(store::KvEntry{kGlobalParameterScope, name,
                                      std::vector<uint8_t>(value_json.begin(), value_json.end())}),
         "put global parameter '" + name + "'");
}

void DefinitionsPersister::on_global_parameter_cleared(const std::string& name) {
  record(store_.delete_kv(kGlobalParameterScope, name), "delete global parameter '" + name + "'");
}

Status DefinitionsPersister::persist_user(const auth::AuthStore& auth, std::string_view user) {
  const auth::User* u = auth.find_user(user);
  if (!u) return store_.delete_user(std::string(user));
  return store_.put_user(store::UserDef{
      u->name, u->password_hash, std::string(auth::hash_algorithm_name(u->algorithm)), u->tags});
}

Status DefinitionsPersister::persist_permission(const auth::AuthStore& auth, std::string_view user,
                                                std::string_view vhost) {
  for (const auto& p : auth.permissions()) {
    if (p.user == user && p.vhost == vhost) {
      return store_.put_permission(
          store::PermissionDef{p.user, p.vhost, p.configure, p.write, p.read});
    }
  }
  return store_.delete_permission(std::string(user), std::string(vhost));
}

Status DefinitionsPersister::persist_topic_permission(const auth::AuthStore& auth,
                                                      std::string_view user, std::string_view vhost,
                                                      std::string_view exchange) {
  for (const auto& p : auth.topic_permissions()) {
    if (p.user == user && p.vhost == vhost && p.exchange == exchange) {
      return store_.put_topic_permission(
          store::TopicPermissionDef{p.user, p.vhost, p.exchange, p.write, p.read});
    }
  }
  return store_.delete_topic_permission(std::string(user), std::string(vhost),
                                        std::string(exchange));
}

Status DefinitionsPersister::persist_all_auth(const auth::AuthStore& auth) {
  return store_.transaction([&]() -> Status {
    for (const auth::User* u : auth.users()) {
      if (auto s = persist_user(auth, u->name); !s) return s;
    }
    for (const auto& p : auth.permissions()) {
      auto s = store_.put_permission(
          store::PermissionDef{p.user, p.vhost, p.configure, p.write, p.read});
      if (!s) return s;
    }
    for (const auto& p : auth.topic_permissions()) {
      auto s = store_.put_topic_permission(
          store::TopicPermissionDef{p.user, p.vhost, p.exchange, p.write, p.read});
      if (!s) return s;
    }
    return ok_status();
  });
}

}  // namespace pulse::app
