#pragma once
// Web-STOMP: STOMP over WebSocket as rabbitmq_web_stomp 3.10 serves it. The HTTP listener hands
// its `/ws` requests here (httpd::UpgradeHandler), and Web-STOMP has listeners of its own
// (web_stomp.tcp.*, web_stomp.ssl.*) that answer only the WebSocket path (404 elsewhere). The
// sessions join the StompServer's set, so the management API, closes, vhost deletion and
// shutdown treat them as STOMP sessions ("Web STOMP 1.2"). Runs on the broker's event loop.
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "httpd/upgrade.h"
#include "server/asio.h"
#include "stomp_server/options.h"
#include "stomp_server/stomp_server.h"
#include "web_stomp/options.h"

namespace pulse::tls {
class ContextHolder;
}

namespace pulse::web_stomp {

class WebStompServer : public httpd::UpgradeHandler {
 public:
  // `stomp_options`: the STOMP plugin's settings (default user, vhost, ...), which
  // rabbitmq_web_stomp uses too, with implicit_connect off as it has it.
  WebStompServer(boost::asio::io_context& io, stomp_server::StompServer& stomp,
                 WebStompOptions options, stomp_server::StompOptions stomp_options);
  ~WebStompServer() override;

  Result<boost::asio::ip::tcp::endpoint> listen(const std::string& host, uint16_t port);
  Result<boost::asio::ip::tcp::endpoint> listen_tls(const std::string& host, uint16_t port,
                                                    std::shared_ptr<tls::ContextHolder> tls);
  // Stops accepting (the sessions end with StompServer::shutdown).
  void shutdown();

  // httpd::UpgradeHandler
  const std::string& path() const override { return options_.path; }
  void upgrade(httpd::PlainStream stream, httpd::UpgradeRequest request,
               boost::beast::flat_buffer buffer) override;
  void upgrade(httpd::TlsStream stream, std::shared_ptr<boost::asio::ssl::context> context,
               httpd::UpgradeRequest request, boost::beast::flat_buffer buffer) override;
  // The same for a connection of Web-STOMP's own listeners: `slot` is its place under
  // max_connections, held until the connection is gone. `leftover`: what was read past the
  // request, the client's first WebSocket bytes.
  void upgrade(httpd::PlainStream stream, httpd::UpgradeRequest request,
               boost::beast::flat_buffer leftover, std::shared_ptr<void> slot);
  void upgrade(httpd::TlsStream stream, std::shared_ptr<boost::asio::ssl::context> context,
               httpd::UpgradeRequest request, boost::beast::flat_buffer leftover,
               std::shared_ptr<void> slot);

  // For the connections.
  const WebStompOptions& options() const { return options_; }
  stomp_server::StompServer& stomp() { return stomp_; }
  stomp_server::SessionContext session_context() { return stomp_.context(stomp_options_); }
  const stomp_server::StompOptions& stomp_options() const { return stomp_options_; }

 private:
  struct Listener;
  void accept(const std::shared_ptr<Listener>& l);

  boost::asio::io_context& io_;
  stomp_server::StompServer& stomp_;
  WebStompOptions options_;
  stomp_server::StompOptions stomp_options_;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  std::vector<std::shared_ptr<Listener>> listeners_;
  bool shutting_down_ = false;
};

}  // namespace pulse::web_stomp
