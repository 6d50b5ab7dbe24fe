#include "app/management.h"

#include "app/boot.h"
#include "app/definitions.h"
#include "base/log.h"
#include "server/amqp_connection.h"
#include "server/channel.h"
#include "server/resource_monitor.h"
#include "server/server.h"

namespace pulse::app {

http::Hooks management_hooks(ManagementContext& ctx) {
  http::Hooks h;
  auto report = [](Status s, std::string_view what) {
    if (!s) spdlog::error("management API: persisting {} failed: {}", what, s.error().text);
  };
  h.user_changed = [&ctx, report](std::string_view user) {
    report(ctx.persister.persist_user(ctx.auth, user), "user");
  };
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
    st.connections = ctx.server.connection_count();
    return st;
  };
  h.vhost_connections = [&ctx](const std::string& vhost) {
    return ctx.server.connections_on_vhost(vhost);
  };
  h.channel_metrics = [&ctx]() {
    std::vector<http::ChannelMetrics> out;
    for (const auto& [id, conn] : ctx.server.connections()) {
      if (conn->vhost() == nullptr) continue;
      std::string name = conn->name();
      for (const auto& [cid, ch] : conn->channels()) {
        if (ch->finished()) continue;
        http::ChannelMetrics m;
        m.name = name + " (" + std::to_string(cid) + ")";
        m.vhost = conn->vhost()->name();
        m.consumers = ch->consumer_count();
        m.unacked = ch->unacked_count();
        m.unconfirmed = ch->unconfirmed_count();
        m.uncommitted = ch->uncommitted_count();
        m.prefetch = ch->prefetch_count();
        m.global_prefetch = ch->global_prefetch_count();
        m.counters = ch->counters();
        out.push_back(std::move(m));
      }
    }
    return out;
  };
  h.connection_metrics = [&ctx]() {
    std::vector<http::ConnectionMetrics> out;
    for (const auto& [id, conn] : ctx.server.connections()) {
      http::ConnectionMetrics m;
      m.name = conn->name();
      for (const auto& [cid, ch] : conn->channels())
        if (!ch->finished()) ++m.channels;
      m.recv_oct = conn->recv_oct();
      m.send_oct = conn->send_oct();
      out.push_back(std::move(m));
    }
    return out;
  };
  h.import_definitions = [&ctx](const nlohmann::json& body, const std::string* vhost) -> Status {
    nlohmann::json doc = body;
    if (vhost != nullptr) {
      // POST /api/definitions/{vhost}: the vhost-less export form, applied to that vhost.
      for (const char* k : {"users", "vhosts", "permissions", "topic_permissions"}) doc.erase(k);
      for (const char* k : {"queues", "exchanges", "bindings", "policies", "parameters"}) {
        auto it = doc.find(k);
        if (it == doc.end() || !it->is_array()) continue;
        for (auto& item : *it)
          if (item.is_object()) item["vhost"] = *vhost;
      }
    }
    auto defs =
        parse_definitions(doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    if (!defs) return std::move(defs).error();
    return import_definitions(*defs, ctx.broker, ctx.auth, ctx.store, ctx.persister);
  };
  return h;
}

}  // namespace pulse::app
