#include "server/server.h"

#include "base/listen.h"
#include "base/log.h"
#include "server/amqp_connection.h"
#include "tls/context.h"

namespace pulse::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::string connection_name(const tcp::endpoint& peer, const tcp::endpoint& local) {
  return peer.address().to_string() + ":" + std::to_string(peer.port()) + " -> " +
         local.address().to_string() + ":" + std::to_string(local.port());
}

Server::Server(asio::io_context& io, broker::Broker& broker, auth::AuthStore& auth,
               ServerOptions options)
    : io_(io),
      broker_(broker),
      auth_(auth),
      options_(std::move(options)),
      auth_failures_(options_.auth_failure_limit),
      broker_timer_(io),
      monitor_(io, ResourceLimits{options_.memory_high_watermark, options_.disk_free_limit,
                                  options_.data_dir}) {
  broker_.set_timer_hook([this](broker::TimePoint when) { arm_broker_timer(when); });
  broker_.set_vhost_deleting_hook([this](const std::string& vhost) {
    auto conns = connections_;
    for (auto& [id, c] : conns)
      if (c->vhost() != nullptr && c->vhost()->name() == vhost) c->vhost_deleted();
    for (auto& fn : vhost_deleting_) fn(vhost);
  });
  monitor_.start([this](bool alarmed) {
    if (alarmed) return;  // connections block themselves when they next publish
    auto conns = connections_;
    for (auto& [id, c] : conns) c->unblock();
    for (auto& fn : alarm_cleared_) fn();
  });
}

std::string Server::blocked_reason() const {
  if (monitor_.memory_alarm() && monitor_.disk_alarm()) return "low on memory & low on disk";
  return monitor_.memory_alarm() ? "low on memory" : "low on disk";
}

Server::~Server() {
  broker_.set_timer_hook(nullptr);
  broker_.set_vhost_deleting_hook(nullptr);
}

Result<tcp::endpoint> Server::listen(const std::string& host, uint16_t port) {
  return listen_tls(host, port, nullptr);
}

Result<tcp::endpoint> Server::listen_tls(const std::string& host, uint16_t port,
                                         std::shared_ptr<tls::ContextHolder> tls) {
  auto acceptor = open_acceptor(io_, host, port, tls ? "AMQPS" : "AMQP");
  if (!acceptor) return std::move(acceptor).error();
  tcp::endpoint bound = (*acceptor)->local_endpoint();
  acceptors_.push_back(std::move(*acceptor));
  accept(*acceptors_.back(), std::move(tls));
  return bound;
}

void Server::accept(tcp::acceptor& acceptor, std::shared_ptr<tls::ContextHolder> tls) {
  acceptor.async_accept([this, &acceptor, tls = std::move(tls)](boost::system::error_code ec,
                                                                tcp::socket socket) mutable {
    if (ec == asio::error::operation_aborted || shutting_down_) return;
    if (!ec) {
      if (options_.connection_max != 0 && connections_.size() >= options_.connection_max) {
        spdlog::warn("connection refused: connection_max {} reached", options_.connection_max);
        socket.close();
      } else if (tls && !tls->current()) {
        // Never plaintext on a TLS port (a holder is loaded before its listener opens).
        socket.close();
      } else {
        uint64_t id = broker_.next_id();
        auto conn = std::make_shared<AmqpConnection>(*this, std::move(socket), id,
                                                     tls ? tls->current() : nullptr);
        connections_[id] = conn;
        ++broker_.node_counters().connections_opened;
        conn->start();
        // start() learns the endpoints. The newest holder of a name wins: an older one with
        // the same peer port is closing.
        if (connections_.contains(id))
          ids_by_name_[connection_name(conn->peer(), conn->local())] = id;
      }
    } else {
      const char* what = tls ? "AMQPS" : "AMQP";
      accept_failed(acceptor, ec, what,
                    [this, &acceptor, tls]() mutable { accept(acceptor, std::move(tls)); });
      return;
    }
    accept(acceptor, std::move(tls));
  });
}

// Channels count themselves open and closed (channel.cc): no walk over 10k connections.
size_t Server::channel_count() const {
  const auto& nc = broker_.node_counters();
  return nc.channels_opened - nc.channels_closed;
}

uint64_t Server::connection_id_by_name(const std::string& name) const {
  auto it = ids_by_name_.find(name);
  return it == ids_by_name_.end() ? 0 : it->second;
}

size_t Server::connections_on_vhost(const std::string& vhost) const {
  size_t n = 0;
  for (const auto& [id, c] : connections_)
    if (c->vhost() != nullptr && c->vhost()->name() == vhost) ++n;
  return n;
}

bool Server::close_connection(uint64_t id, const std::string& reason) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return false;
  auto conn = it->second;  // the close may finish the connection
  conn->force_close(amqp::kConnectionForced, "CONNECTION_FORCED - " + reason);
  return true;
}

void Server::connection_finished(uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  auto n = ids_by_name_.find(connection_name(it->second->peer(), it->second->local()));
  if (n != ids_by_name_.end() && n->second == id) ids_by_name_.erase(n);
  connections_.erase(it);
  ++broker_.node_counters().connections_closed;
}

void Server::shutdown() {
  shutting_down_ = true;
  for (auto& a : acceptors_) {
    boost::system::error_code ec;
    a->close(ec);
  }
  auto conns = connections_;
  for (auto& [id, c] : conns) c->drain_input();
  for (auto& [id, c] : conns)
    c->force_close(320,
                   "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'");
  broker_timer_.cancel();
  monitor_.stop();
}

void Server::arm_broker_timer(broker::TimePoint when) {
  if (broker_timer_at_ && *broker_timer_at_ <= when) return;
  broker_timer_at_ = when;
  broker_timer_.expires_at(when);
  broker_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    broker_timer_at_.reset();
    broker_.run_timers(broker::Clock::now());
    if (auto next = broker_.next_timer()) arm_broker_timer(*next);
  });
}

}  // namespace pulse::server
