#include "definitions/apply.h"

#include "auth/password.h"
#include "base/log.h"
#include "broker/errors.h"
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

Result<bool> DefinitionsApply::apply_user(const User& u) {
  Status s = u.password ? auth_.put_user_hash(u.name, auth::hash_password(*u.password),
                                              auth::kSha256Name, u.tags)
                        : auth_.put_user_hash(u.name, u.password_hash, u.hashing_algorithm, u.tags);
  if (!s) return std::move(s).error();
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

Result<bool> DefinitionsApply::step(const std::function<bool()>& keep_going) {
  do {
    while (section_ != Section::kDone && index_ >= section_size()) {
      section_ = static_cast<Section>(static_cast<size_t>(section_) + 1);
      index_ = 0;
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
