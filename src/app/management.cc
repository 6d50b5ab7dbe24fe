#include "app/management.h"

#include <algorithm>

#include "app/boot.h"
#include "app/https_listeners.h"
#include "base/log.h"
#include "definitions/apply.h"
#include "definitions/json.h"
#include "server/amqp_connection.h"
#include "server/channel.h"
#include "server/resource_monitor.h"
#include "server/server.h"

namespace pulse::app {

namespace {

// Applies parsed definitions in slices of one transaction each, so other clients keep being
// served during a big import; the first error stops it (entries before it stay, as in
// RabbitMQ).
void apply_sliced(ManagementContext& ctx, http::Scheduler& s,
                  std::shared_ptr<Result<definitions::Definitions>> parsed,
                  std::function<void(Status)> done) {
  if (!*parsed) {
    done(std::move(*parsed).error());
    return;
  }
  auto apply = std::make_shared<definitions::DefinitionsApply>(
      std::make_shared<const definitions::Definitions>(std::move(**parsed)), ctx.broker, ctx.auth);
  auto failed = std::make_shared<std::optional<Error>>();
  http::run_sliced(
      s,
      [&ctx, apply, failed] {
        auto until = std::chrono::steady_clock::now() + http::kSliceBudget;
        auto more = import_step(
            *apply, [until] { return std::chrono::steady_clock::now() < until; }, ctx.auth,
            ctx.store, ctx.persister);
        if (!more) *failed = std::move(more).error();
        return more && *more;
      },
      [&s, apply, failed, done] {
        // 100k entries take a while to free: not on the loop.
        s.offload([defs = apply->take_definitions()] {});
        done(*failed ? Status(std::move(**failed)) : Status());
      });
}

// Persists a user change. A deleted user's connections are closed as RabbitMQ closes them
// (320 "user 'u' is deleted"): otherwise they would go on with a login that no longer exists.
void on_user_changed(ManagementContext& ctx, std::string_view user) {
  if (auto s = ctx.persister.persist_user(ctx.auth, user); !s)
    spdlog::error("persisting user '{}' failed: {}", user, s.error().text);
  if (ctx.auth.find_user(user) != nullptr) return;
  const std::string reason = "user '" + std::string(user) + "' is deleted";
  for (uint64_t id : connection_ids(ctx.server)) {
    auto c = find_connection(ctx.server, id);
    if (c && c->user == user) ctx.server.close_connection(id, reason);
  }
  if (ctx.stomp) {
    for (uint64_t id : stomp_connection_ids(*ctx.stomp)) {
      auto c = find_stomp_connection(*ctx.stomp, id);
      if (c && c->user == user) ctx.stomp->close_connection(id, reason);
    }
  }
}

}  // namespace

http::Hooks management_hooks(ManagementContext& ctx) {
  http::Hooks h;
  auto report = [](Status s, std::string_view what) {
    if (!s) spdlog::error("management API: persisting {} failed: {}", what, s.error().text);
  };
  h.user_changed = [&ctx](std::string_view user) { on_user_changed(ctx, user); };
  h.permission_changed = [&ctx, report](std::string_view user, std::string_view vhost) {
    report(ctx.persister.persist_permission(ctx.auth, user, vhost), "permission");
  };
  h.topic_permission_changed = [&ctx, report](std::string_view user, std::string_view vhost,
                                              std::string_view exchange) {
    report(ctx.persister.persist_topic_permission(ctx.auth, user, vhost, exchange),
           "topic permission");
  };
  h.node_status = [&ctx]() {
    http::NodeStatus st;
    st.memory_alarm = ctx.server.monitor().memory_alarm();
    st.disk_alarm = ctx.server.monitor().disk_alarm();
    st.listeners = ctx.listeners;
    st.mem_used = server::ResourceMonitor::resident_bytes();
    st.mem_limit = ctx.memory_high_watermark;
    st.disk_free = server::ResourceMonitor::disk_free_bytes(ctx.data_dir);
    st.disk_free_limit = ctx.disk_free_limit;
    st.connections =
        ctx.server.connection_count() + (ctx.stomp ? stomp_connection_ids(*ctx.stomp).size() : 0);
    st.channels =
        ctx.server.channel_count() + (ctx.stomp ? stomp_connection_ids(*ctx.stomp).size() : 0);
    return st;
  };
  h.tls_listener_certificates = [&ctx]() {
    return ctx.tls ? tls_listener_certificates(*ctx.tls)
                   : std::vector<http::TlsListenerCertificates>{};
  };
  h.connection_ids = [&ctx]() {
    auto ids = connection_ids(ctx.server);
    if (ctx.stomp) {
      auto more = stomp_connection_ids(*ctx.stomp);
      ids.insert(ids.end(), more.begin(), more.end());
      std::sort(ids.begin(), ids.end());
    }
    return ids;
  };
  h.connection = [&ctx](uint64_t id) {
    auto c = find_connection(ctx.server, id);
    if (!c && ctx.stomp) c = find_stomp_connection(*ctx.stomp, id);
    return c;
  };
  h.connection_id_by_name = [&ctx](const std::string& name) {
    uint64_t id = connection_id_by_name(ctx.server, name);
    if (id == 0 && ctx.stomp) id = stomp_connection_id_by_name(*ctx.stomp, name);
    return id;
  };
  h.connection_channels = [&ctx](uint64_t id) {
    auto chans = connection_channels(ctx.server, id);
    if (chans.empty() && ctx.stomp) chans = stomp_connection_channels(*ctx.stomp, id);
    return chans;
  };
  h.channel = [&ctx](uint64_t id, uint16_t number) {
    auto ch = find_channel(ctx.server, id, number);
    if (!ch && ctx.stomp) ch = find_stomp_channel(*ctx.stomp, id, number);
    return ch;
  };
  h.queue_consumers = [&ctx](const broker::Queue& q, size_t from, size_t count) {
    auto out = queue_consumers(ctx.server, q, from, count);
    if (!ctx.stomp) return out;
    // STOMP consumers are few: their entries follow the AMQP ones of the slice.
    const auto& all = q.consumers();
    for (size_t n = from; n < all.size() && n < from + count; ++n)
      if (auto ch = stomp_consumer_channel(*ctx.stomp, *all[n])) out.push_back(std::move(*ch));
    return out;
  };
  h.close_connection = [&ctx](uint64_t id, const std::string& reason) {
    return ctx.server.close_connection(id, reason) ||
           (ctx.stomp != nullptr && ctx.stomp->close_connection(id, reason));
  };
  h.import_definitions = [&ctx](http::Scheduler& s, std::shared_ptr<nlohmann::json> doc,
                                std::optional<std::string> vhost,
                                std::function<void(Status)> done) {
    // Parsing is pure: the worker does it, and frees the document there.
    s.offload([&ctx, &s, doc = std::move(doc), vhost, done]() mutable {
      // Pulse's section (node-wide) is read apart; the vhost form ignores it.
      std::shared_ptr<Result<api::PulseSection>> pulse;
      if (auto it = doc->find(api::kSectionKey); it != doc->end()) {
        if (!vhost) pulse = std::make_shared<Result<api::PulseSection>>(api::parse_section(*it));
        doc->erase(it);
      }
      if (vhost) {
        // POST /api/definitions/{vhost}: the vhost-less export form, applied to that vhost.
        for (const char* k :
             {"users", "vhosts", "permissions", "topic_permissions", "global_parameters"})
          doc->erase(k);
        for (const char* k : {"queues", "exchanges", "bindings", "policies", "parameters"}) {
          auto it = doc->find(k);
          if (it == doc->end() || !it->is_array()) continue;
          for (auto& item : *it)
            if (item.is_object()) item["vhost"] = *vhost;
        }
      }
      auto parsed =
          std::make_shared<Result<definitions::Definitions>>(definitions::parse_definitions(
              doc->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
      doc.reset();
      s.post([&ctx, &s, parsed, pulse, done] {
        // A damaged or unfitting Pulse section is refused before anything is applied.
        if (pulse && !*pulse) return done(pulse->error());
        if (pulse && ctx.pulse_check) {
          if (auto st = ctx.pulse_check(**pulse); !st) return done(st);
        }
        apply_sliced(ctx, s, parsed, [&ctx, pulse, done](Status st) {
          // The Pulse records name the broker users the import just made.
          if (st && pulse && ctx.pulse_import) st = ctx.pulse_import(**pulse);
          done(st);
        });
      });
    });
  };
  h.pulse_definitions = [&ctx]() -> std::optional<nlohmann::json> {
    if (!ctx.pulse_export) return std::nullopt;
    return ctx.pulse_export();
  };
  return h;
}

admin::LocalAdminHooks local_admin_hooks(ManagementContext& ctx) {
  admin::LocalAdminHooks h;
  auto report = [](Status s, std::string_view what) {
    if (!s) spdlog::error("broker admin: persisting {} failed: {}", what, s.error().text);
  };
  h.user_changed = [&ctx](std::string_view user) { on_user_changed(ctx, user); };
  h.permission_changed = [&ctx, report](std::string_view user, std::string_view vhost) {
    report(ctx.persister.persist_permission(ctx.auth, user, vhost), "permission");
  };
  h.list_connections = [&ctx] {
    std::vector<admin::ConnectionInfo> out;
    auto ids = connection_ids(ctx.server);
    if (ctx.stomp) {
      auto more = stomp_connection_ids(*ctx.stomp);
      ids.insert(ids.end(), more.begin(), more.end());
    }
    for (uint64_t id : ids) {
      auto c = find_connection(ctx.server, id);
      if (!c && ctx.stomp) c = find_stomp_connection(*ctx.stomp, id);
      if (!c) continue;
      admin::ConnectionInfo i;
      i.name = c->name;
      i.user = c->user;
      i.vhost = c->vhost;
      i.connected_at = admin::TimePoint(std::chrono::milliseconds(c->connected_at_ms));
      i.peer = c->peer_host.find(':') != std::string::npos
                   ? "[" + c->peer_host + "]:" + std::to_string(c->peer_port)
                   : c->peer_host + ":" + std::to_string(c->peer_port);
      out.push_back(std::move(i));
    }
    return out;
  };
  h.close_connection = [&ctx](const std::string& name, const std::string& reason) {
    if (uint64_t id = connection_id_by_name(ctx.server, name); id != 0)
      return ctx.server.close_connection(id, reason);
    uint64_t id = ctx.stomp ? stomp_connection_id_by_name(*ctx.stomp, name) : 0;
    return id != 0 && ctx.stomp->close_connection(id, reason);
  };
  return h;
}

}  // namespace pulse::app
