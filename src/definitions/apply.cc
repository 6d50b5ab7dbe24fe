#include "definitions/apply.h"

#include <map>

#include "amqp/field_table_json.h"
#include "auth/password.h"
#include "base/log.h"
#include "broker/errors.h"
#include "broker/limits.h"
#include "broker/names.h"
#include "broker/queue_args.h"

namespace pulse::definitions {
namespace {

std::string one_line(std::string s) {
  for (auto pos = s.find('\n'); pos != std::string::npos; pos = s.find('\n', pos))
    s.replace(pos, 1, "; ");
  return s;
}

}  // namespace

DefinitionsApply::DefinitionsApply(std::shared_ptr<const Definitions> defs, broker::Broker& broker,
                                   auth::AuthStore& auth, ApplyOptions options)
    : defs_(std::move(defs)), broker_(broker), auth_(auth), options_(std::move(options)) {}

Result<broker::VHost*> DefinitionsApply::vhost(const std::string& name) {
  if (options_.create_missing_vhosts) return &broker_.add_vhost(name);
  if (auto* vh = broker_.find_vhost(name)) return vh;
  fatal_ = true;
  return Error{0, "definitions refer to vhost '" + name + "' which is not defined"};
}

size_t DefinitionsApply::section_size() const {
  const Definitions& d = *defs_;
  switch (section_) {
    case Section::kVhosts:
      return d.vhosts.size();
    case Section::kGlobalParameters:
      return d.global_parameters.size();
    case Section::kUsers:
      return d.users.size();
    case Section::kPermissions:
      return d.permissions.size();
    case Section::kTopicPermissions:
      return d.topic_permissions.size();
    case Section::kParameters:
      return d.parameters.size();
    case Section::kPolicies:
      return d.policies.size();
    case Section::kExchanges:
      return d.exchanges.size();
    case Section::kQueues:
      return d.queues.size();
    case Section::kBindings:
      return d.bindings.size();
    case Section::kDone:
      break;
  }
  return 0;
}

std::string DefinitionsApply::label() const {
  const Definitions& d = *defs_;
  const bool import = options_.on_refused == ApplyOptions::OnRefused::kStop;
  const std::string i = "[" + std::to_string(index_) + "]";
  switch (section_) {
    case Section::kGlobalParameters:
      return "global parameter '" + d.global_parameters[index_].name + "'";
    case Section::kUsers: {
      const User& u = d.users[index_];
      return import ? "users" + i + " ('" + u.name + "')" : "user '" + u.name + "'";
    }
    case Section::kPermissions: {
      const Permission& p = d.permissions[index_];
      return import ? "permissions" + i + " (user '" + p.user + "' in vhost '" + p.vhost + "')"
                    : "permission of '" + p.user + "' in vhost '" + p.vhost + "'";
    }
    case Section::kTopicPermissions: {
      const TopicPermission& p = d.topic_permissions[index_];
      return import ? "topic_permissions" + i + " (user '" + p.user + "' in vhost '" + p.vhost +
                          "', exchange '" + p.exchange + "')"
                    : "topic permission of '" + p.user + "' in vhost '" + p.vhost + "'";
    }
    case Section::kParameters: {
      const Parameter& p = d.parameters[index_];
      const std::string what = p.component + " '" + p.name + "' in vhost '" + p.vhost + "'";
      return import ? "parameters" + i + " (" + what + ")" : "parameter " + what;
    }
    case Section::kPolicies:
      return broker::resource_name("policy", d.policies[index_].name, d.policies[index_].vhost);
    case Section::kExchanges: {
      const Exchange& x = d.exchanges[index_];
      return import ? "exchange '" + x.name + "'"
                    : broker::resource_name("exchange", x.name, x.vhost);
    }
    case Section::kQueues: {
      const Queue& q = d.queues[index_];
      return import ? "queue '" + q.name + "'" : broker::resource_name("queue", q.name, q.vhost);
    }
    case Section::kBindings: {
      const Binding& b = d.bindings[index_];
      std::string s = "binding " + b.source + " -> " + b.destination;
      return import ? s : s + " in vhost '" + b.vhost + "'";
    }
    case Section::kVhosts:
    case Section::kDone:
      break;
  }
  return {};
}

Status DefinitionsApply::refused(Error e) {
  if (options_.on_refused == ApplyOptions::OnRefused::kSkip) {
    ++skipped_;
    spdlog::warn("recovery: skipped {}: {}", label(), e.text);
    return ok_status();
  }
  // Auth errors keep their codes; the broker's become definitions errors (code 0).
  bool auth = section_ == Section::kUsers || section_ == Section::kPermissions ||
              section_ == Section::kTopicPermissions;
  std::string text = section_ == Section::kPolicies ? one_line(std::move(e.text)) : e.text;
  return Error{auth ? e.code : uint16_t{0}, label() + ": " + text};
}

namespace {
// A limits object (a user's "limits", a vhost-limits value) checked as RabbitMQ does.
Result<broker::LimitList> read_limits(broker::LimitKind kind, const nlohmann::json& value) {
  auto v = amqp::json_to_field_value(value);
  if (!v) return Error{0, v.error().text};
  auto reasons = broker::limit_errors(kind, *v);
  if (!reasons.empty()) {
    if (kind == broker::LimitKind::kVhost) return Error{0, broker::validation_failed_text(reasons)};
    std::string text = reasons.front();
    for (size_t i = 1; i < reasons.size(); ++i) text += "; " + reasons[i];
    return Error{0, text};
  }
  return broker::limit_list(*v);
}
}  // namespace

Result<bool> DefinitionsApply::apply_user(const User& u) {
  // Limits are checked first so that a refused user changes nothing. Absent or empty limits
  // leave the user's as they are, as RabbitMQ's import does (it merges them).
  broker::LimitList limits;
  if (u.limits) {
    auto l = read_limits(broker::LimitKind::kUser, *u.limits);
    if (!l) return std::move(l).error();
    limits = std::move(*l);
  }
  Status s = u.password ? auth_.put_user_hash(u.name, auth::hash_password(*u.password),
                                              auth::kSha256Name, u.tags)
                        : auth_.put_user_hash(u.name, u.password_hash, u.hashing_algorithm, u.tags);
  if (!s) return std::move(s).error();
  if (!limits.empty()) {
    if (auto m = auth_.merge_user_limits(u.name, limits); !m) return std::move(m).error();
  }
  return true;
}

// An imported vhost-limits parameter replaces the vhost's limits as a whole (it is one
// runtime parameter in RabbitMQ). Other components belong to plugins pulsed does not have.
Result<bool> DefinitionsApply::apply_parameter(const Parameter& p) {
  if (p.component != broker::kVhostLimitsComponent) return false;
  if (p.name != broker::kVhostLimitsName) {
    // RabbitMQ 3.10 stores such a parameter without effect and answers 500.
    return Error{0, "a vhost-limits parameter must be named 'limits'"};
  }
  auto vh = vhost(p.vhost);
  if (!vh) return std::move(vh).error();
  auto limits = read_limits(broker::LimitKind::kVhost, p.value);
  if (!limits) return std::move(limits).error();
  (*vh)->set_limits(std::move(*limits));
  return true;
}

Result<bool> DefinitionsApply::apply_policy(const Policy& p) {
  auto vh = vhost(p.vhost);
  if (!vh) return std::move(vh).error();
  broker::PolicySpec spec{.name = p.name,
                          .pattern = p.pattern,
                          .apply_to = p.apply_to,
                          .priority = p.priority,
                          .definition = p.definition};
  if (auto s = (*vh)->set_policy(std::move(spec)); !s) return std::move(s).error();
  return true;
}

Result<bool> DefinitionsApply::apply_exchange(const Exchange& x) {
  auto vh = vhost(x.vhost);
  if (!vh) return std::move(vh).error();
  if (broker::is_builtin_exchange(x.name)) return false;  // every vhost has them already
  broker::ExchangeDeclare decl{.name = x.name,
                               .type = x.type,
                               .passive = false,
                               .durable = x.durable,
                               .auto_delete = x.auto_delete,
                               .internal = x.internal,
                               .arguments = x.arguments};
  if (auto r = (*vh)->declare_exchange(decl); !r) return std::move(r).error();
  return true;
}

Result<bool> DefinitionsApply::apply_queue(const Queue& q) {
  auto vh = vhost(q.vhost);
  if (!vh) return std::move(vh).error();
  broker::QueueDeclare decl;
  decl.name = q.name;
  decl.durable = q.durable;
  decl.auto_delete = q.auto_delete;
  decl.server_named = options_.server_named_queues;
  decl.arguments = q.arguments;
  broker::apply_queue_type(decl.arguments, q.type);
  auto r = (*vh)->declare_queue(std::move(decl));
  if (!r) return std::move(r).error();
  if (options_.queue_declared) {
    if (auto s = options_.queue_declared(**r, index_); !s) {
      fatal_ = true;
      return std::move(s).error();
    }
  }
  return true;
}

Result<bool> DefinitionsApply::apply_binding(const Binding& b) {
  auto vh = vhost(b.vhost);
  if (!vh) return std::move(vh).error();
  Status s = b.destination_kind == DestinationKind::kExchange
                 ? (*vh)->bind_exchange(b.destination, b.source, b.routing_key, b.arguments)
                 : (*vh)->bind_queue(b.destination, b.source, b.routing_key, b.arguments, 0);
  if (!s) return std::move(s).error();
  return true;
}

Result<bool> DefinitionsApply::apply_one() {
  const Definitions& d = *defs_;
  switch (section_) {
    case Section::kVhosts: {
      // An import replaces an existing vhost's metadata, as RabbitMQ's does.
      const Vhost& v = d.vhosts[index_];
      broker_.add_vhost(v.name).set_metadata({v.description, v.tags, v.default_queue_type});
      return true;
    }
    case Section::kGlobalParameters: {
      // An imported cluster_name or internal_cluster_id replaces the node's, as in RabbitMQ.
      const GlobalParameter& p = d.global_parameters[index_];
      if (auto r = broker_.set_global_parameter(p.name, p.value.dump()); !r)
        return std::move(r).error();
      return true;
    }
    case Section::kUsers:
      return apply_user(d.users[index_]);
    case Section::kPermissions: {
      const Permission& p = d.permissions[index_];
      if (auto s = auth_.set_permissions(p.user, p.vhost, p.configure, p.write, p.read); !s)
        return std::move(s).error();
      return true;
    }
    case Section::kTopicPermissions: {
      const TopicPermission& p = d.topic_permissions[index_];
      auto s = auth_.set_topic_permissions(p.user, p.vhost, p.exchange, p.write, p.read);
      if (!s) return std::move(s).error();
      return true;
    }
    case Section::kParameters:
      return apply_parameter(d.parameters[index_]);
    case Section::kPolicies:
      return apply_policy(d.policies[index_]);
    case Section::kExchanges:
      return apply_exchange(d.exchanges[index_]);
    case Section::kQueues:
      return apply_queue(d.queues[index_]);
    case Section::kBindings:
      return apply_binding(d.bindings[index_]);
    case Section::kDone:
      break;
  }
  return false;
}

// rabbit_definitions:validate_limits, with the limits in force before the import.
Status DefinitionsApply::check_queue_limits() const {
  std::map<std::string, size_t> added;  // by vhost, in the order RabbitMQ's map folds
  for (const Queue& q : defs_->queues) {
    broker::VHost* vh = broker_.find_vhost(q.vhost);
    if (vh != nullptr && !vh->find_queue(q.name)) ++added[q.vhost];
  }
  for (const auto& [name, count] : added) {
    const broker::VHost* vh = broker_.find_vhost(name);
    if (!vh->limits()) continue;
    auto limit = broker::limit_in_force(*vh->limits(), broker::kMaxQueues);
    if (!limit) continue;
    const size_t existing = *limit == 0 ? 0 : vh->queues().size();
    if (*limit != 0 && count + existing <= static_cast<uint64_t>(*limit)) continue;
    return Error{0, "Adding " + std::to_string(count) + " queue(s) to virtual host \"" + name +
                        "\" would exceed the limit of " + std::to_string(*limit) +
                        " queue(s).\n\nThis virtual host currently has " +
                        std::to_string(existing) + " queue(s) defined.\n\nImport aborted!"};
  }
  return ok_status();
}

Result<bool> DefinitionsApply::step(const std::function<bool()>& keep_going) {
  do {
    while (section_ != Section::kDone && index_ >= section_size()) {
      section_ = static_cast<Section>(static_cast<size_t>(section_) + 1);
      index_ = 0;
    }
    // RabbitMQ checks after users and vhosts, before permissions.
    if (!limits_checked_ && section_ >= Section::kPermissions) {
      limits_checked_ = true;
      if (options_.on_refused == ApplyOptions::OnRefused::kStop) {
        if (auto s = check_queue_limits(); !s) return std::move(s).error();
      }
    }
    if (section_ == Section::kDone) return false;
    auto r = apply_one();
    if (!r && fatal_) return std::move(r).error();  // already says which entry
    if (!r) {
      if (auto s = refused(std::move(r).error()); !s) return std::move(s).error();
    } else if (*r) {
      ++applied_[static_cast<size_t>(section_)];
    }
    ++index_;
  } while (keep_going());
  return true;
}

Status DefinitionsApply::run() {
  auto more = step([] { return true; });
  if (!more) return std::move(more).error();
  return ok_status();
}

Status apply_definitions(const Definitions& defs, broker::Broker& broker, auth::AuthStore& auth,
                         ApplyOptions options) {
  // The caller's defs outlive the applier: share them without a copy.
  DefinitionsApply apply(std::shared_ptr<const Definitions>(&defs, [](const Definitions*) {}),
                         broker, auth, std::move(options));
  return apply.run();
}

}  // namespace pulse::definitions
