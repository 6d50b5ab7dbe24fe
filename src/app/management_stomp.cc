// Snapshots of the STOMP sessions for the management API, as RabbitMQ lists rabbitmq_stomp's
// connections: protocol "STOMP 1.x", one channel (number 1), its subscriptions as consumers.
#include "app/management.h"

namespace pulse::app {

namespace {

// RabbitMQ's STOMP adapter info: product "STOMP client".
const amqp::FieldTable& stomp_client_properties() {
  static const amqp::FieldTable t{{"product", amqp::FieldValue(std::string("STOMP client"))}};
  return t;
}

std::shared_ptr<stomp_server::Session> connected(stomp_server::StompServer& s, uint64_t id) {
  auto session = s.find(id);
  return session && session->connected() ? session : nullptr;
}

http::ChannelInfo channel_info(const stomp_server::Session& s, bool with_consumers) {
  http::ChannelInfo i;
  i.connection_id = s.id();
  i.number = 1;
  i.connection_name = server::connection_name(s.peer().peer, s.peer().local);
  i.user = s.user();
  i.vhost = s.vhost_name();
  i.peer_host = s.peer().peer.address().to_string();
  i.peer_port = s.peer().peer.port();
  i.prefetch_count = static_cast<uint16_t>(s.prefetch());
  i.unacked = s.unacked_count();
  const auto steady_now = std::chrono::steady_clock::now();
  i.idle_since_ms = epoch_ms(std::chrono::system_clock::now() -
                             std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                 steady_now - s.last_active()));
  i.counts = s.counters();
  if (!with_consumers) return i;
  for (const auto& [tag, sub] : s.subscriptions()) {
    if (sub->consumer == nullptr || !sub->queue) continue;
    http::ConsumerInfo ci;
    ci.tag = tag;
    ci.queue = sub->queue->name();
    ci.ack_required = !sub->consumer->no_ack;
    ci.prefetch_count = static_cast<uint16_t>(sub->prefetch);
    ci.arguments = &sub->consumer->arguments;
    i.consumers.push_back(std::move(ci));
  }
  return i;
}

}  // namespace

std::vector<uint64_t> stomp_connection_ids(stomp_server::StompServer& s) {
  std::vector<uint64_t> ids;
  for (const auto& session : s.sessions())
    if (session->connected()) ids.push_back(session->id());
  return ids;
}

std::optional<http::ConnectionInfo> find_stomp_connection(stomp_server::StompServer& s,
                                                          uint64_t id) {
  auto session = connected(s, id);
  if (!session) return std::nullopt;
  const auto& p = session->peer();
  http::ConnectionInfo i;
  i.id = id;
  i.name = server::connection_name(p.peer, p.local);
  i.user = session->user();
  i.vhost = session->vhost_name();
  i.auth_mechanism = session->auth_mechanism();
  i.peer_host = p.peer.address().to_string();
  i.peer_port = p.peer.port();
  i.host = p.local.address().to_string();
  i.port = p.local.port();
  i.channel_max = 1;
  i.frame_max = 0;
  i.timeout = static_cast<uint16_t>(session->heartbeat_seconds());
  i.channels = 1;
  i.connected_at_ms = epoch_ms(session->connected_at());
  i.recv_oct = session->recv_oct();
  i.recv_cnt = session->recv_cnt();
  i.client_properties = &stomp_client_properties();
  i.ssl = p.tls;
  i.protocol = session->protocol();
  i.type = "direct";
  return i;
}

uint64_t stomp_connection_id_by_name(stomp_server::StompServer& s, const std::string& name) {
  for (const auto& session : s.sessions()) {
    if (session->connected() &&
        server::connection_name(session->peer().peer, session->peer().local) == name)
      return session->id();
  }
  return 0;
}

std::vector<http::ChannelInfo> stomp_connection_channels(stomp_server::StompServer& s,
                                                         uint64_t id) {
  auto session = connected(s, id);
  if (!session) return {};
  return {channel_info(*session, true)};
}

std::optional<http::ChannelInfo> find_stomp_channel(stomp_server::StompServer& s, uint64_t id,
                                                    uint16_t number) {
  auto session = connected(s, id);
  if (!session || number != 1) return std::nullopt;
  return channel_info(*session, true);
}

std::optional<http::ChannelInfo> stomp_consumer_channel(stomp_server::StompServer& s,
                                                        const broker::Consumer& c) {
  auto session = connected(s, c.connection_id);
  if (!session || static_cast<const broker::ConsumerSink*>(session.get()) != c.sink)
    return std::nullopt;
  http::ChannelInfo i = channel_info(*session, true);
  std::erase_if(i.consumers, [&](const http::ConsumerInfo& ci) { return ci.tag != c.tag; });
  if (i.consumers.empty()) return std::nullopt;
  return i;
}

}  // namespace pulse::app
