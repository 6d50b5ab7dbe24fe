#pragma once
// The AMQP listener(s) and the set of live connections, all on one io_context thread.
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/auth_store.h"
#include "auth/failure_limiter.h"
#include "base/result.h"
#include "broker/broker.h"
#include "server/asio.h"
#include "server/event_loop.h"
#include "server/options.h"
#include "server/resource_monitor.h"

namespace pulse::tls {
class ContextHolder;
}

namespace pulse::server {

class AmqpConnection;

// "127.0.0.1:50000 -> 127.0.0.1:5672": the management API's name of a connection.
std::string connection_name(const boost::asio::ip::tcp::endpoint& peer,
                            const boost::asio::ip::tcp::endpoint& local);

class Server {
 public:
  Server(boost::asio::io_context& io, broker::Broker& broker, auth::AuthStore& auth,
         ServerOptions options);
  ~Server();

  // Binds and starts accepting; returns the bound endpoint (port 0 picks a free port).
  Result<boost::asio::ip::tcp::endpoint> listen(const std::string& host, uint16_t port);
  // An AMQPS listener: each connection handshakes TLS with the holder's current context
  // (so a reload reaches new connections only) before AMQP starts.
  Result<boost::asio::ip::tcp::endpoint> listen_tls(const std::string& host, uint16_t port,
                                                    std::shared_ptr<tls::ContextHolder> tls);
  // Stops accepting and closes every connection with CONNECTION_FORCED.
  void shutdown();

  boost::asio::io_context& io() { return io_; }
  // Every connection reads into this one buffer (all run on the loop thread, one at a time).
  std::vector<uint8_t>& read_scratch() { return read_scratch_; }
  broker::Broker& broker() { return broker_; }
  auth::AuthStore& auth() { return auth_; }
  // Failed AMQP logins per source address; the handshake consults and feeds it.
  auth::FailureLimiter& auth_failures() { return auth_failures_; }
  const ServerOptions& options() const { return options_; }
  size_t connection_count() const { return connections_.size(); }
  size_t channel_count() const;
  // While a resource alarm is on, connections that publish stop being read.
  bool alarmed() const { return monitor_.alarmed(); }
  // A read of `bytes` returned; `streamed`: nothing was written to that connection since its
  // previous read (see EventLoop).
  void note_ingress(size_t bytes, bool streamed) {
    monitor_.note_ingress(bytes);
    if (loop_) loop_->note_input(streamed, bytes);
  }
  // The loop that runs this server's io_context, when it is an EventLoop (pulsed's); without
  // one (tests running io_context::run()), reads are retried on the next handler instead.
  void set_event_loop(EventLoop* loop) { loop_ = loop; }
  EventLoop* event_loop() const { return loop_; }
  // RabbitMQ's connection.blocked reason text.
  std::string blocked_reason() const;
  // Read-only views for the management API.
  const ResourceMonitor& monitor() const { return monitor_; }
  size_t connections_on_vhost(const std::string& vhost) const;
  // Live connections by id (the management API's connection and channel listings).
  const std::unordered_map<uint64_t, std::shared_ptr<AmqpConnection>>& connections() const {
    return connections_;
  }
  // The live connection of that connection_name(), by an index kept with the connections (a
  // management GET of one connection must not walk 10k of them); 0 when there is none.
  uint64_t connection_id_by_name(const std::string& name) const;
  // Closes a connection with CONNECTION_FORCED - reason (management close); false if unknown.
  bool close_connection(uint64_t id, const std::string& reason);

  void connection_finished(uint64_t id);
  // Told before the broker deletes a vhost, after this server closed its own connections
  // there (the STOMP server closes its sessions).
  void on_vhost_deleting(std::function<void(const std::string&)> fn) {
    vhost_deleting_.push_back(std::move(fn));
  }
  // Open connections of other protocols (STOMP sessions past CONNECT), which RabbitMQ's
  // connection tracking counts toward the same vhost and user limits as AMQP connections.
  struct OtherConnection {
    const std::string& vhost;
    const std::string& user;
    size_t channels;
  };
  using OtherConnections = std::function<void(const std::function<void(const OtherConnection&)>&)>;
  void set_other_connections(OtherConnections fn) { other_connections_ = std::move(fn); }
  // Told when the resource alarm clears, after this server's connections were unblocked.
  void on_alarm_cleared(std::function<void()> fn) { alarm_cleared_.push_back(std::move(fn)); }
  void for_each_other_connection(const std::function<void(const OtherConnection&)>& each) const {
    if (other_connections_) other_connections_(each);
  }

 private:
  // `tls` is null for a plaintext listener.
  void accept(boost::asio::ip::tcp::acceptor& acceptor, std::shared_ptr<tls::ContextHolder> tls);
  void arm_broker_timer(broker::TimePoint when);

  boost::asio::io_context& io_;
  std::vector<uint8_t> read_scratch_ = std::vector<uint8_t>(256 * 1024);
  broker::Broker& broker_;
  auth::AuthStore& auth_;
  ServerOptions options_;
  auth::FailureLimiter auth_failures_;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  std::unordered_map<uint64_t, std::shared_ptr<AmqpConnection>> connections_;
  std::unordered_map<std::string, uint64_t> ids_by_name_;
  boost::asio::steady_timer broker_timer_;
  std::optional<broker::TimePoint> broker_timer_at_;
  bool shutting_down_ = false;
  EventLoop* loop_ = nullptr;
  ResourceMonitor monitor_;
  std::vector<std::function<void(const std::string&)>> vhost_deleting_;
  OtherConnections other_connections_;
  std::vector<std::function<void()>> alarm_cleared_;
};

}  // namespace pulse::server
