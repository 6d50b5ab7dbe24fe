#include "stomp_server/stomp_server.h"

#include "base/listen.h"
#include "base/log.h"
#include "stomp_server/stomp_connection.h"
#include "tls/context.h"

namespace pulse::stomp_server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

StompServer::StompServer(asio::io_context& io, broker::Broker& broker, auth::AuthStore& auth,
                         auth::FailureLimiter& failures, StompOptions options)
    : io_(io), broker_(broker), auth_(auth), failures_(failures), options_(std::move(options)) {}

StompServer::~StompServer() = default;

Result<tcp::endpoint> StompServer::listen(const std::string& host, uint16_t port) {
  return listen_tls(host, port, nullptr);
}

Result<tcp::endpoint> StompServer::listen_tls(const std::string& host, uint16_t port,
                                              std::shared_ptr<tls::ContextHolder> tls) {
  auto acceptor = open_acceptor(io_, host, port, tls ? "STOMP over TLS" : "STOMP");
  if (!acceptor) return std::move(acceptor).error();
  tcp::endpoint bound = (*acceptor)->local_endpoint();
  acceptors_.push_back(std::move(*acceptor));
  accept(*acceptors_.back(), std::move(tls));
  return bound;
}

void StompServer::accept(tcp::acceptor& acceptor, std::shared_ptr<tls::ContextHolder> tls) {
  acceptor.async_accept([this, &acceptor, tls = std::move(tls)](boost::system::error_code ec,
                                                                tcp::socket socket) mutable {
    if (ec == asio::error::operation_aborted || shutting_down_) return;
    if (!ec) {
      if (tls && !tls->current()) {
        socket.close();
      } else {
        uint64_t id = broker_.next_id();
        auto conn = std::make_shared<StompConnection>(*this, context(options_), std::move(socket),
                                                      id, tls ? tls->current() : nullptr);
        add(id, conn, conn->session_ptr());
        conn->start();
      }
    } else {
      const char* what = tls ? "STOMP over TLS" : "STOMP";
      accept_failed(acceptor, ec, what,
                    [this, &acceptor, tls]() mutable { accept(acceptor, std::move(tls)); });
      return;
    }
    accept(acceptor, std::move(tls));
  });
}

void StompServer::add(uint64_t id, std::shared_ptr<Transport> connection,
                      std::shared_ptr<Session> session) {
  connections_[id] = Live{std::move(connection), std::move(session)};
  ++broker_.node_counters().connections_opened;
}

std::vector<std::shared_ptr<Session>> StompServer::sessions() const {
  std::vector<std::shared_ptr<Session>> out;
  out.reserve(connections_.size());
  for (const auto& [id, c] : connections_) out.push_back(c.session);
  return out;
}

std::shared_ptr<Session> StompServer::find(uint64_t id) const {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second.session;
}

size_t StompServer::connected_count() const {
  size_t n = 0;
  for (const auto& [id, c] : connections_)
    if (c.session->connected()) ++n;
  return n;
}

namespace {

// What rabbitmq_stomp sends when its AMQP connection is closed under it (management close, user
// or vhost deleted): the exit reason as Erlang's ~p prints it, which moves the text to a line of
// its own when the tuple would pass column 80.
std::string channel_died_detail(const std::string& reason) {
  const std::string head =
      "Reason: {shutdown,\n            {connection_closing,\n                "
      "{server_initiated_close,320,";
  const std::string text = "\"" + reason + "\"}}}";
  constexpr size_t kIndent = 16, kTag = 28, kWidth = 80;
  if (kIndent + kTag + text.size() <= kWidth) return head + text;
  return head + "\n" + std::string(kIndent + 4, ' ') + text;
}

}  // namespace

bool StompServer::close_connection(uint64_t id, const std::string& reason) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return false;
  auto session = it->second.session;
  // What rabbitmq_stomp sends when its AMQP connection is closed under it (management close,
  // user deleted): the exit reason, as Erlang prints it.
  session->force_close("AMQP channel died", channel_died_detail(reason));
  return true;
}

void StompServer::vhost_deleting(const std::string& vhost) {
  auto conns = connections_;
  for (auto& [id, c] : conns) {
    if (c.session->connected() && c.session->vhost_name() == vhost)
      c.session->force_close("AMQP channel died",
                             channel_died_detail("vhost '" + vhost + "' is deleted"));
  }
}

void StompServer::alarm_cleared() {
  auto conns = connections_;
  for (auto& [id, c] : conns) c.session->unblock();
}

void StompServer::connection_finished(uint64_t id) {
  if (connections_.erase(id) > 0) ++broker_.node_counters().connections_closed;
}

void StompServer::shutdown() {
  shutting_down_ = true;
  for (auto& a : acceptors_) {
    boost::system::error_code ec;
    a->close(ec);
  }
  // As the AMQP server does: ACKs a client wrote just before the stop are handled, so those
  // messages are not delivered again after the restart.
  auto conns = connections_;
  for (auto& [id, c] : conns) {
    c.connection->drain_input([session = c.session] {
      session->force_close("connection_forced",
                           "CONNECTION_FORCED - broker forced connection closure with reason "
                           "'shutdown'");
    });
  }
}

}  // namespace pulse::stomp_server
