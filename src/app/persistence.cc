#include "app/persistence.h"

#include "base/log.h"
#include "broker/names.h"
#include "definitions/snapshot.h"

namespace pulse::app {

using definitions::snapshot;

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
  record(store_.put_vhost(definitions::Vhost{.name = vhost}), "put vhost '" + vhost + "'");
}

void DefinitionsPersister::on_vhost_metadata_changed(const broker::VHost& vhost) {
  record(store_.put_vhost(snapshot(vhost)), "put vhost '" + vhost.name() + "'");
}

void DefinitionsPersister::on_vhost_limits_changed(const broker::VHost& vhost) {
  if (auto p = definitions::limits_snapshot(vhost)) {
    record(store_.put_parameter(*p), "put limits of vhost '" + vhost.name() + "'");
  } else {
    record(store_.delete_parameter(vhost.name(), "vhost-limits", "limits"),
           "delete limits of vhost '" + vhost.name() + "'");
  }
}

void DefinitionsPersister::on_vhost_deleted(const std::string& vhost) {
  record(store_.delete_vhost(vhost), "delete vhost '" + vhost + "'");
}

void DefinitionsPersister::on_exchange_declared(broker::VHost& vhost, const broker::Exchange& x) {
  if (!is_durable(x)) return;
  record(store_.put_exchange(snapshot(vhost.name(), x)), "put exchange '" + x.name() + "'");
}

void DefinitionsPersister::on_exchange_deleted(broker::VHost& vhost, const broker::Exchange& x) {
  if (!is_durable(x)) return;
  record(store_.delete_exchange(vhost.name(), x.name()), "delete exchange '" + x.name() + "'");
}

void DefinitionsPersister::on_queue_declared(broker::VHost& vhost, broker::Queue& q) {
  if (!is_durable(q)) return;
  auto id = store_.put_queue(snapshot(vhost.name(), q));
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
  record(store_.add_binding(snapshot(vhost.name(), b)), "add binding from '" + b.source + "'");
}

void DefinitionsPersister::on_binding_removed(broker::VHost& vhost, const broker::Binding& b) {
  if (!is_durable(vhost, b)) return;
  record(store_.delete_binding(snapshot(vhost.name(), b)),
         "delete binding from '" + b.source + "'");
}

void DefinitionsPersister::on_policy_set(broker::VHost& vhost, const broker::Policy& p) {
  definitions::Policy row = snapshot(p);
  row.vhost = vhost.name();
  record(store_.put_policy(row), "put policy '" + p.name() + "'");
}

void DefinitionsPersister::on_policy_cleared(broker::VHost& vhost, const std::string& name) {
  record(store_.delete_policy(vhost.name(), name, /*operator_policy=*/false),
         "delete policy '" + name + "'");
}

void DefinitionsPersister::on_global_parameter_set(const std::string& name,
                                                   const std::string& value_json) {
  record(store_.put_global_parameter(name, value_json), "put global parameter '" + name + "'");
}

void DefinitionsPersister::on_global_parameter_cleared(const std::string& name) {
  record(store_.delete_global_parameter(name), "delete global parameter '" + name + "'");
}

Status DefinitionsPersister::persist_user(const auth::AuthStore& auth, std::string_view user) {
  const auth::User* u = auth.find_user(user);
  if (!u) return store_.delete_user(std::string(user));
  return store_.put_user(snapshot(*u));
}

Status DefinitionsPersister::persist_permission(const auth::AuthStore& auth, std::string_view user,
                                                std::string_view vhost) {
  for (const auto& p : auth.permissions()) {
    if (p.user == user && p.vhost == vhost) {
      return store_.put_permission(snapshot(p));
    }
  }
  return store_.delete_permission(std::string(user), std::string(vhost));
}

Status DefinitionsPersister::persist_topic_permission(const auth::AuthStore& auth,
                                                      std::string_view user, std::string_view vhost,
                                                      std::string_view exchange) {
  for (const auto& p : auth.topic_permissions()) {
    if (p.user == user && p.vhost == vhost && p.exchange == exchange) {
      return store_.put_topic_permission(snapshot(p));
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
      if (auto s = store_.put_permission(snapshot(p)); !s) return s;
    }
    for (const auto& p : auth.topic_permissions()) {
      if (auto s = store_.put_topic_permission(snapshot(p)); !s) return s;
    }
    return ok_status();
  });
}

}  // namespace pulse::app
