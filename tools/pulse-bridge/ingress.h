#pragma once
// The HTTP side of pulse-bridge (README.md): the webhook sources (POST /hooks/<name> for
// GitHub, /publish/<name> for the generic JSON publisher, /bugzilla/<name> for Bugzilla push),
// GET /health[/<name>] and GET /metrics. A request that publishes is answered only once the
// sink settled its messages: 202 when every one was confirmed, 503 with Retry-After otherwise.
//
// Thread: the io_context's (httpd::Server's handler). Outcomes come back from the sink's thread
// and are posted to the io_context.
#include <functional>
#include <map>
#include <string>
#include <utility>  // Boost 1.74's asio uses std::exchange without including it (GCC 12)

#include <boost/asio/io_context.hpp>

#include "bridge_config.h"
#include "httpd/message.h"
#include "sink.h"
#include "stats.h"

namespace pulse::bridge {

// httpd::Server's answer callback (httpd/server.h, kept out of this header).
using Reply = std::function<void(httpd::Response)>;

class Ingress {
 public:
  // `exchanges`: each source's exchange (defaults resolved).
  Ingress(boost::asio::io_context& io, const BridgeConfig& config,
          std::map<std::string, std::string> exchanges, MessageSink& sink, StatsRegistry& stats);

  void handle(httpd::Request req, Reply done);

 private:
  void github(const SourceConfig& s, SourceStats& st, const httpd::Request& req, Reply done);
  void publish(const SourceConfig& s, SourceStats& st, const httpd::Request& req, Reply done);
  void bugzilla(const SourceConfig& s, SourceStats& st, const httpd::Request& req, Reply done);
  // Publishes and answers 202 after the confirms (503 when the broker is down or a message
  // was not confirmed). `summary` goes into the 202 body.
  void send(const SourceConfig& s, SourceStats& st, std::vector<Outgoing> messages,
            nlohmann::json summary, Reply done);

  boost::asio::io_context& io_;
  const BridgeConfig& config_;
  std::map<std::string, std::string> exchanges_;
  MessageSink& sink_;
  StatsRegistry& stats_;
};

// The token of an `Authorization: Bearer <token>` header; "" otherwise.
std::string bearer_token(const std::string& authorization);
// Whether `given` equals `secret`, in time independent of where they differ.
bool same_secret(std::string_view given, std::string_view secret);

}  // namespace pulse::bridge
