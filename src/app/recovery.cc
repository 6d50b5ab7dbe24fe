// Start-up: definitions from the store into the broker and the auth store.
#include <set>
#include <string>

#include "amqp/field_table.h"
#include "app/definitions.h"
#include "app/persistence.h"
#include "base/bytes.h"
#include "base/log.h"
#include "broker/names.h"

namespace pulse::app {
namespace {

Result<amqp::FieldTable> decode_args(const std::vector<uint8_t>& bytes, const std::string& what) {
  amqp::FieldTable t;
  if (bytes.empty()) return t;
  ByteReader r(bytes.data(), bytes.size());
  if (!amqp::decode_table(r, t) || !r.empty()) {
    return Error{0,
                 "definitions database: undecodable arguments of " + what + " (damaged database?)"};
  }
  return t;
}

std::string where(const char* kind, const std::string& name, const std::string& vhost) {
  return std::string(kind) + " '" + name + "' in vhost '" + vhost + "'";
}

}  // namespace

std::string RecoverySummary::text() const {
  std::string s = std::to_string(vhosts) + " vhosts, " + std::to_string(users) + " users, " +
                  std::to_string(permissions) + " permissions, " +
                  std::to_string(topic_permissions) + " topic permissions, " +
                  std::to_string(policies) + " policies, " + std::to_string(exchanges) +
                  " exchanges, " + std::to_string(queues) + " queues, " + std::to_string(bindings) +
                  " bindings, " + std::to_string(messages) + " messages";
  if (skipped) s += " (" + std::to_string(skipped) + " skipped, see warnings)";
  return s;
}

Result<RecoverySummary> recover_definitions(store::DefinitionsStore& store, broker::Broker& broker,
                                            auth::AuthStore& auth, persist::QueueStorage* queues) {
  auto loaded = store.load_all();
  if (!loaded) return std::move(loaded).error();
  const store::Definitions& defs = *loaded;
  if (queues) {
    std::set<uint64_t> ids;
    for (const auto& q : defs.queues) ids.insert(q.id);
    if (auto s = queues->prepare(ids); !s) return std::move(s).error();
  }
  RecoverySummary sum;
  // A row the broker no longer accepts (e.g. validation tightened by an upgrade) is reported
  // and left in the database: refusing to start would take every other definition hostage.
  auto skip = [&](const std::string& what, const Error& e) {
    ++sum.skipped;
    spdlog::warn("recovery: skipped {}: {}", what, e.text);
  };

  for (const auto& v : defs.vhosts) {
    broker.add_vhost(v.name).set_metadata(decode_vhost_metadata(v.metadata));
    ++sum.vhosts;
  }
  for (const auto& u : defs.users) {
    if (auto s = auth.put_user_hash(u.name, u.password_hash, u.hashing_algorithm, u.tags); !s) {
      skip("user '" + u.name + "'", s.error());
      continue;
    }
    ++sum.users;
  }
  for (const auto& p : defs.permissions) {
    if (auto s = auth.set_permissions(p.user, p.vhost, p.configure, p.write, p.read); !s) {
      skip("permission of '" + p.user + "' in vhost '" + p.vhost + "'", s.error());
      continue;
    }
    ++sum.permissions;
  }
  for (const auto& p : defs.topic_permissions) {
    if (auto s = auth.set_topic_permissions(p.user, p.vhost, p.exchange, p.write, p.read); !s) {
      skip("topic permission of '" + p.user + "' in vhost '" + p.vhost + "'", s.error());
      continue;
    }
    ++sum.topic_permissions;
  }

  for (const auto& e : defs.kv) {
    if (e.scope != kGlobalParameterScope) continue;
    std::string value(e.value.begin(), e.value.end());
    if (auto r = broker.set_global_parameter(e.key, std::move(value)); !r)
      skip("global parameter '" + e.key + "'", r.error());
  }

  auto vhost_of = [&](const std::string& name) -> broker::VHost& {
    // The store's foreign keys make an orphan impossible; recreating the vhost is harmless.
    return broker.add_vhost(name);
  };
  for (const auto& p : defs.policies) {
    const std::string what = where("policy", p.name, p.vhost);
    if (p.operator_policy) {  // never written by pulsed (no operator policies yet)
      skip(what, Error{0, "operator policies are not supported"});
      continue;
    }
    auto json = nlohmann::json::parse(p.definition, nullptr, /*allow_exceptions=*/false);
    auto def = json.is_object() ? json_to_field_table(json) : Result<amqp::FieldTable>(Error{});
    if (!def) {
      return Error{
          0, "definitions database: undecodable definition of " + what + " (damaged database?)"};
    }
    broker::PolicySpec spec{p.name, p.pattern, p.apply_to, p.priority, std::move(*def)};
    if (auto s = vhost_of(p.vhost).set_policy(std::move(spec)); !s) {
      skip(what, s.error());
      continue;
    }
    ++sum.policies;
  }
  for (const auto& x : defs.exchanges) {
    const std::string what = where("exchange", x.name, x.vhost);
    auto args = decode_args(x.arguments, what);
    if (!args) return std::move(args).error();
    if (broker::is_builtin_exchange(x.name)) continue;  // recreated by every vhost
    broker::ExchangeDeclare d{x.name,        x.type,     false,           x.durable,
                              x.auto_delete, x.internal, std::move(*args)};
    if (auto r = vhost_of(x.vhost).declare_exchange(d); !r) {
      skip(what, r.error());
      continue;
    }
    ++sum.exchanges;
  }
  for (const auto& q : defs.queues) {
    const std::string what = where("queue", q.name, q.vhost);
    auto args = decode_args(q.arguments, what);
    if (!args) return std::move(args).error();
    broker::QueueDeclare d;
    d.name = q.name;
    d.durable = q.durable;
    d.auto_delete = q.auto_delete;
    d.server_named = true;  // amq.gen-* names of durable server-named queues come back as-is
    d.arguments = std::move(*args);
    auto r = vhost_of(q.vhost).declare_queue(std::move(d));
    if (!r) {
      skip(what, r.error());
      continue;
    }
    ++sum.queues;
    if (queues) {
      if (auto s = queues->attach_durable(**r, q.id); !s) {
        return Error{0, "messages of " + what + ": " + s.error().text};
      }
      sum.messages += (*r)->message_count();
    }
  }
  for (const auto& b : defs.bindings) {
    const std::string what =
        "binding " + b.source + " -> " + b.destination + " in vhost '" + b.vhost + "'";
    auto args = decode_args(b.arguments, what);
    if (!args) return std::move(args).error();
    broker::VHost& vh = vhost_of(b.vhost);
    Status s = b.destination_is_exchange
                   ? vh.bind_exchange(b.destination, b.source, b.routing_key, *args)
                   : vh.bind_queue(b.destination, b.source, b.routing_key, *args, 0);
    if (!s) {
      skip(what, s.error());
      continue;
    }
    ++sum.bindings;
  }
  return sum;
}

}  // namespace pulse::app
