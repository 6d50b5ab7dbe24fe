// Snapshots of the server's AMQP sessions for the management API and the Prometheus endpoint
// (http::ConnectionInfo / ChannelInfo), one connection, channel or queue at a time: nothing
// here walks every connection except connection_ids(), which only copies ids.
#include <algorithm>

#include "app/management.h"
#include "server/amqp_connection.h"
#include "server/channel.h"
#include "tls/certificate.h"

namespace pulse::app {

namespace {

// Only sessions past connection.open are listed, as RabbitMQ lists tracked connections.
bool listed(const server::AmqpConnection& c) {
  return !c.vhost_name().empty();
}

http::ConnectionInfo connection_info(uint64_t id, const server::AmqpConnection& c) {
  http::ConnectionInfo i;
  i.id = id;
  i.name = server::connection_name(c.peer(), c.local());
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
  i.ssl = c.is_tls();
  if (const tls::SessionInfo* t = c.tls_session()) {
    i.ssl_protocol = t->protocol;
    i.ssl_cipher = t->cipher;
    i.ssl_key_exchange = t->key_exchange;
    i.ssl_hash = t->hash;
    i.peer_cert_subject = t->peer_cert_subject;
    i.peer_cert_issuer = t->peer_cert_issuer;
    i.peer_cert_validity = t->peer_cert_validity;
  }
  return i;
}

http::ConsumerInfo consumer_info(const std::string& tag, const server::ConsumerState& st) {
  http::ConsumerInfo ci;
  ci.tag = tag;
  ci.queue = st.queue->name();
  ci.ack_required = !st.no_ack;
  ci.exclusive = st.consumer->exclusive;
  const auto* sac = st.queue->single_active_consumer();
  ci.active = sac == nullptr || sac == st.consumer;
  ci.prefetch_count = st.prefetch;
  ci.arguments = &st.consumer->arguments;
  return ci;
}

bool live_consumer(const server::ConsumerState& st) {
  return st.consumer != nullptr && st.queue;
}

// The channel without its consumers.
http::ChannelInfo channel_info(uint64_t id, const server::AmqpConnection& c, uint16_t number,
                               const server::Channel& ch) {
  const auto steady_now = std::chrono::steady_clock::now();
  const auto sys_now = std::chrono::system_clock::now();
  http::ChannelInfo i;
  i.connection_id = id;
  i.number = number;
  i.connection_name = server::connection_name(c.peer(), c.local());
  i.user = c.user();
  i.vhost = c.vhost_name();
  i.peer_host = c.peer().address().to_string();
  i.peer_port = c.peer().port();
  i.state = ch.state_text();
  i.prefetch_count = ch.prefetch_count();
  i.global_prefetch_count = ch.global_prefetch_count();
  i.confirm = ch.confirm_mode();
  i.transactional = ch.tx_mode();
  i.unacked = ch.unacked_count();
  i.unconfirmed = ch.unconfirmed_count();
  i.uncommitted = ch.uncommitted_count();
  i.acks_uncommitted = ch.acks_uncommitted_count();
  i.idle_since_ms =
      epoch_ms(sys_now - std::chrono::duration_cast<std::chrono::system_clock::duration>(
                             steady_now - ch.last_active()));
  i.counts = ch.counters();
  return i;
}

http::ChannelInfo channel_with_consumers(uint64_t id, const server::AmqpConnection& c,
                                         uint16_t number, const server::Channel& ch) {
  http::ChannelInfo i = channel_info(id, c, number, ch);
  for (const auto& [tag, st] : ch.consumers())
    if (live_consumer(*st)) i.consumers.push_back(consumer_info(tag, *st));
  return i;
}

const server::AmqpConnection* listed_connection(server::Server& server, uint64_t id) {
  auto it = server.connections().find(id);
  if (it == server.connections().end() || !listed(*it->second)) return nullptr;
  return it->second.get();
}

}  // namespace

std::vector<uint64_t> connection_ids(server::Server& server) {
  std::vector<uint64_t> ids;
  ids.reserve(server.connections().size());
  for (const auto& [id, c] : server.connections())
    if (listed(*c)) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::optional<http::ConnectionInfo> find_connection(server::Server& server, uint64_t id) {
  const auto* c = listed_connection(server, id);
  if (c == nullptr) return std::nullopt;
  return connection_info(id, *c);
}

uint64_t connection_id_by_name(server::Server& server, const std::string& name) {
  uint64_t id = server.connection_id_by_name(name);
  return listed_connection(server, id) != nullptr ? id : 0;
}

std::vector<http::ChannelInfo> connection_channels(server::Server& server, uint64_t id) {
  std::vector<http::ChannelInfo> out;
  const auto* c = listed_connection(server, id);
  if (c == nullptr) return out;
  for (const auto& [number, ch] : c->channels())
    if (!ch->finished()) out.push_back(channel_with_consumers(id, *c, number, *ch));
  return out;
}

std::optional<http::ChannelInfo> find_channel(server::Server& server, uint64_t id,
                                              uint16_t number) {
  const auto* c = listed_connection(server, id);
  if (c == nullptr) return std::nullopt;
  auto it = c->channels().find(number);
  if (it == c->channels().end() || it->second->finished()) return std::nullopt;
  return channel_with_consumers(id, *c, number, *it->second);
}

std::vector<http::ChannelInfo> queue_consumers(server::Server& server, const broker::Queue& q,
                                               size_t from, size_t count) {
  std::vector<http::ChannelInfo> out;
  const auto& all = q.consumers();
  for (size_t n = from; n < all.size() && n < from + count; ++n) {
    const auto& cons = all[n];
    const auto* c = listed_connection(server, cons->connection_id);
    if (c == nullptr) continue;
    // The consumer's sink is one of its connection's channels (the queue knows no channels).
    for (const auto& [number, ch] : c->channels()) {
      if (static_cast<const broker::ConsumerSink*>(ch.get()) != cons->sink || ch->finished())
        continue;
      auto st = ch->consumers().find(cons->tag);
      if (st == ch->consumers().end() || !live_consumer(*st->second)) break;
      // Consumers of one channel share its entry when they follow each other.
      if (out.empty() || out.back().connection_id != cons->connection_id ||
          out.back().number != number)
        out.push_back(channel_info(cons->connection_id, *c, number, *ch));
      out.back().consumers.push_back(consumer_info(st->first, *st->second));
      break;
    }
  }
  return out;
}

}  // namespace pulse::app
