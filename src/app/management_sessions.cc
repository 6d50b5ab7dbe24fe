// Snapshots of the server's AMQP sessions for the management API's connection, channel and
// consumer listings (http::ConnectionInfo / ChannelInfo), and the management close.
#include <algorithm>

#include "app/management.h"
#include "server/amqp_connection.h"
#include "server/channel.h"

namespace pulse::app {

namespace {

int64_t epoch_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string endpoint_name(const boost::asio::ip::tcp::endpoint& peer,
                          const boost::asio::ip::tcp::endpoint& local) {
  return peer.address().to_string() + ":" + std::to_string(peer.port()) + " -> " +
         local.address().to_string() + ":" + std::to_string(local.port());
}

// Only sessions past connection.open are listed, as RabbitMQ lists tracked connections.
bool listed(const server::AmqpConnection& c) {
  return !c.vhost_name().empty();
}

http::ChannelCounts counts_of(const server::ChannelCounters& s) {
  http::ChannelCounts c;
  c.publish = s.publish;
  c.confirm = s.confirm;
  c.return_unroutable = s.return_unroutable;
  c.drop_unroutable = s.drop_unroutable;
  c.deliver = s.deliver;
  c.deliver_no_ack = s.deliver_no_ack;
  c.get = s.get;
  c.get_no_ack = s.get_no_ack;
  c.get_empty = s.get_empty;
  c.ack = s.ack;
  c.redeliver = s.redeliver;
  return c;
}

}  // namespace

namespace {

http::ConnectionInfo connection_info(uint64_t id, const server::AmqpConnection& c) {
  http::ConnectionInfo i;
  i.id = id;
  i.name = endpoint_name(c.peer(), c.local());
  i.user = c.user();
  i.vhost = c.vhost_name();
  i.auth_mechanism = c.auth_mechanism();
  i.peer_host = c.peer().address().to_string();
  i.peer_port = c.peer().port();
  i.host = c.local().address().to_string();
  i.port = c.local().port();
  i.state = c.state_text();
  i.channel_max = c.channel_max();
  i.timeout = c.heartbeat();
  i.frame_max = c.frame_max();
  i.channels = c.channels().size();
  i.connected_at_ms = epoch_ms(c.connected_at());
  const auto& io = c.io_counters();
  i.recv_oct = io.recv_oct;
  i.recv_cnt = io.recv_cnt;
  i.send_oct = io.send_oct;
  i.send_cnt = io.send_cnt;
  i.send_pend = c.send_pending();
  i.client_properties = &c.client_properties();
  return i;
}

void add_channels(uint64_t id, const server::AmqpConnection& c,
                  std::vector<http::ChannelInfo>& out) {
  if (!listed(c) || c.channels().empty()) return;
  const auto steady_now = std::chrono::steady_clock::now();
  const auto sys_now = std::chrono::system_clock::now();
  const std::string conn_name = endpoint_name(c.peer(), c.local());
  for (const auto& [number, ch] : c.channels()) {
    if (ch->finished()) continue;
    http::ChannelInfo i;
    i.connection_id = id;
    i.number = number;
    i.connection_name = conn_name;
    i.user = c.user();
    i.vhost = c.vhost_name();
    i.peer_host = c.peer().address().to_string();
    i.peer_port = c.peer().port();
    i.state = ch->state_text();
    i.prefetch_count = ch->prefetch_count();
    i.global_prefetch_count = ch->global_prefetch_count();
    i.confirm = ch->confirm_mode();
    i.transactional = ch->tx_mode();
    i.unacked = ch->unacked_count();
    i.unconfirmed = ch->unconfirmed_count();
    i.uncommitted = ch->uncommitted_count();
    i.acks_uncommitted = ch->acks_uncommitted_count();
    i.idle_since_ms =
        epoch_ms(sys_now - std::chrono::duration_cast<std::chrono::system_clock::duration>(
                               steady_now - ch->last_active()));
    i.counts = counts_of(ch->counters());
    for (const auto& [tag, st] : ch->consumers()) {
      if (st->consumer == nullptr || !st->queue) continue;
      http::ConsumerInfo ci;
      ci.tag = tag;
      ci.queue = st->queue->name();
      ci.ack_required = !st->no_ack;
      ci.exclusive = st->consumer->exclusive;
      const auto* sac = st->queue->single_active_consumer();
      ci.active = sac == nullptr || sac == st->consumer;
      ci.prefetch_count = st->prefetch;
      ci.arguments = &st->consumer->arguments;
      i.consumers.push_back(std::move(ci));
    }
    out.push_back(std::move(i));
  }
}

}  // namespace

std::vector<http::ConnectionInfo> connection_snapshot(server::Server& server) {
  std::vector<http::ConnectionInfo> out;
  out.reserve(server.connections().size());
  for (const auto& [id, c] : server.connections())
    if (listed(*c)) out.push_back(connection_info(id, *c));
  return out;
}

std::vector<http::ChannelInfo> channel_snapshot(server::Server& server) {
  std::vector<http::ChannelInfo> out;
  for (const auto& [id, c] : server.connections()) add_channels(id, *c, out);
  return out;
}

std::vector<uint64_t> connection_ids(server::Server& server) {
  std::vector<uint64_t> ids;
  ids.reserve(server.connections().size());
  for (const auto& [id, c] : server.connections())
    if (listed(*c)) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::optional<http::ConnectionInfo> find_connection(server::Server& server, uint64_t id) {
  auto it = server.connections().find(id);
  if (it == server.connections().end() || !listed(*it->second)) return std::nullopt;
  return connection_info(id, *it->second);
}

std::vector<http::ChannelInfo> connection_channels(server::Server& server, uint64_t id) {
  std::vector<http::ChannelInfo> out;
  auto it = server.connections().find(id);
  if (it != server.connections().end()) add_channels(id, *it->second, out);
  return out;
}

}  // namespace pulse::app
