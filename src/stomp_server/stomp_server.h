#pragma once
// STOMP listeners (plain TCP and TLS) and the set of live STOMP sessions (also Web-STOMP's), on
// the broker's event-loop thread. Each connection is a Transport for one Session.
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/auth_store.h"
#include "auth/failure_limiter.h"
#include "base/result.h"
#include "broker/broker.h"
#include "server/asio.h"
#include "stomp_server/options.h"
#include "stomp_server/session.h"
#include "stomp_server/transport.h"

namespace pulse::tls {
class ContextHolder;
}

namespace pulse::stomp_server {

class StompConnection;

class StompServer {
 public:
  // `failures` is shared with the AMQP server, so failed logins count across protocols.
  StompServer(boost::asio::io_context& io, broker::Broker& broker, auth::AuthStore& auth,
              auth::FailureLimiter& failures, StompOptions options);
  ~StompServer();

  Result<boost::asio::ip::tcp::endpoint> listen(const std::string& host, uint16_t port);
  Result<boost::asio::ip::tcp::endpoint> listen_tls(const std::string& host, uint16_t port,
                                                    std::shared_ptr<tls::ContextHolder> tls);
  // Stops accepting; every session handles the input already received (Transport::drain_input),
  // then gets an ERROR and is closed.
  void shutdown();

  const StompOptions& options() const { return options_; }
  // Live sessions by connection id (ids come from the broker, shared with AMQP connections).
  std::vector<std::shared_ptr<Session>> sessions() const;
  std::shared_ptr<Session> find(uint64_t id) const;
  // Sessions past CONNECT, the management API's listing.
  size_t connected_count() const;
  // ERROR "connection_forced" then close; false if unknown.
  bool close_connection(uint64_t id, const std::string& reason);
  // Closes the sessions of a vhost about to be deleted.
  void vhost_deleting(const std::string& vhost);

  // Another transport's connections (Web-STOMP's WebSockets) join the same set, so the
  // management API, closes, vhost deletion and shutdown reach them too. `connection` is kept
  // alive until connection_finished(id).
  bool accepting() const { return !shutting_down_; }
  uint64_t next_id() { return broker_.next_id(); }
  SessionContext context(const StompOptions& options) {
    return SessionContext{io_, broker_, auth_, failures_, options, &limits_};
  }
  void add(uint64_t id, std::shared_ptr<Transport> connection, std::shared_ptr<Session> session);

  void connection_finished(uint64_t id);
  // Sessions connecting from now on are checked against these.
  void set_limit_checks(LimitChecks checks) { limits_ = std::move(checks); }
  // The resource alarm cleared: sessions it blocked are read again.
  void alarm_cleared();

 private:
  struct Live {
    std::shared_ptr<Transport> connection;
    std::shared_ptr<Session> session;
  };

  void accept(boost::asio::ip::tcp::acceptor& acceptor, std::shared_ptr<tls::ContextHolder> tls);

  boost::asio::io_context& io_;
  broker::Broker& broker_;
  auth::AuthStore& auth_;
  auth::FailureLimiter& failures_;
  StompOptions options_;
  LimitChecks limits_;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  std::unordered_map<uint64_t, Live> connections_;
  bool shutting_down_ = false;
};

}  // namespace pulse::stomp_server
