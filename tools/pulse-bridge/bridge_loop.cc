#include "bridge_loop.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>

#include "base/log.h"
#include "base/url.h"
#include "httpd/server.h"
#include "ingress.h"
#include "poller.h"
#include "sink.h"
#include "stats.h"
#include "tls/context.h"

namespace pulse::bridge {
namespace {

constexpr int kExitUsage = 2;

}  // namespace

int run_bridge(const BridgeArgs& args, const BridgeConfig& config, const std::atomic<bool>& stop) {
  const std::string user = args.endpoints.empty() ? "" : args.endpoints.front().user;
  StatsRegistry stats;
  std::map<std::string, std::string> exchanges;
  for (const auto& s : config.sources) {
    exchanges[s.name] = default_exchange(s, user);
    stats.add(s, exchanges[s.name]);
    spdlog::info("bridge: source={} type={} exchange={}", s.name, type_name(s.type),
                 exchanges[s.name]);
  }

  std::string state_dir = args.state_dir.empty() ? config.state_dir : args.state_dir;
  if (config.has_pollers() && !args.dry_run) {
    if (state_dir.empty()) {
      spdlog::error(
          "bridge: the pollers need a directory for their cursors: --state-dir or "
          "pulse.bridge.state_dir");
      return kExitUsage;
    }
    if (::mkdir(state_dir.c_str(), 0700) != 0 && errno != EEXIST) {
      spdlog::error("bridge: cannot create state directory {}: {}", state_dir,
                    std::strerror(errno));
      return kExitUsage;
    }
  }
  const std::string listen = args.listen.empty() ? config.listen : args.listen;
  if (config.has_ingress() && listen.empty()) {
    spdlog::error("bridge: webhook sources need an address: --listen or pulse.bridge.listen");
    return kExitUsage;
  }

  std::unique_ptr<MessageSink> sink;
  AmqpSink* amqp = nullptr;
  if (args.dry_run) {
    sink = std::make_unique<DryRunSink>();
    spdlog::info("bridge: dry run: messages are printed, not published");
  } else {
    AmqpSinkOptions o;
    o.endpoints = args.endpoints;
    o.deadline = config.publish_deadline;
    o.declare_exchanges = config.declare_exchanges;
    auto a = std::make_unique<AmqpSink>(o);
    amqp = a.get();
    sink = std::move(a);
  }

  std::vector<std::unique_ptr<Poller>> pollers;
  for (const auto& s : config.sources) {
    if (!is_poller(s.type)) continue;
    const std::string cursor = args.dry_run ? "" : state_dir + "/" + s.name + ".cursor.json";
    std::unique_ptr<Poller> p;
    if (s.type == SourceType::kJsonFeed) {
      p = std::make_unique<JsonFeedPoller>(s, exchanges[s.name], *sink, *stats.find(s.name),
                                           cursor);
    } else {
      p = std::make_unique<PushlogPoller>(s, exchanges[s.name], *sink, *stats.find(s.name), cursor);
    }
    if (auto st = p->load(); !st) {
      spdlog::error("bridge: {}", st.error().text);
      return kExitUsage;
    }
    pollers.push_back(std::move(p));
  }

  boost::asio::io_context io;
  httpd::ServerOptions so;
  so.server_name = "pulse-bridge";
  // The largest source's limit, plus room so that a body a little over a source's own limit
  // is read and refused naming that limit; far larger ones get the server's bare 413 from
  // their Content-Length, before they are read.
  so.body_limit = 0;
  for (const auto& s : config.sources) so.body_limit = std::max(so.body_limit, s.max_body);
  so.body_limit += 1024 * 1024;
  httpd::Server server(io, so);
  Ingress ingress(io, config, exchanges, *sink, stats);
  if (!listen.empty()) {
    auto hp = parse_host_port(listen);
    if (!hp) {
      spdlog::error("bridge: '{}' is not HOST:PORT", listen);
      return kExitUsage;
    }
    const std::string host = hp->host.empty() ? "127.0.0.1" : std::string(unbracket(hp->host));
    httpd::Handler handler = [&ingress](httpd::Request req, httpd::Reply done) {
      ingress.handle(std::move(req), std::move(done));
    };
    Result<boost::asio::ip::tcp::endpoint> bound = Error{0, ""};
    const bool tls = !args.listen_cert.empty();
    if (tls) {
      tls::ServerTlsOptions o;
      o.certfile = args.listen_cert;
      o.keyfile = args.listen_key;
      auto holder = std::make_shared<tls::ContextHolder>("--listen-cert", o);
      if (auto st = holder->load(); !st) {
        spdlog::error("bridge: {}", st.error().text);
        return kExitUsage;
      }
      bound = server.listen_tls(host, hp->port, std::move(holder), std::move(handler), "HTTPS");
    } else {
      bound = server.listen(host, hp->port, std::move(handler), "HTTP");
    }
    if (!bound) {
      spdlog::error("bridge: {}", bound.error().text);
      return kExitUsage;
    }
    spdlog::info("bridge: event=listening url={}://{}", tls ? "https" : "http",
                 format_host_port(bound->address().to_string(), bound->port()));
  }

  if (amqp) amqp->start();
  for (auto& p : pollers) p->start();

  // The stop flag is set by a signal handler: looked at every 100 ms.
  boost::asio::steady_timer tick(io);
  std::function<void()> arm = [&] {
    tick.expires_after(std::chrono::milliseconds(100));
    tick.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      if (stop.load()) {
        server.shutdown();
        io.stop();
        return;
      }
      arm();
    });
  };
  arm();
  io.run();

  spdlog::info("bridge: event=stopping");
  for (auto& p : pollers) p->stop();
  sink->stop();
  spdlog::info("bridge: event=stopped");
  return 0;
}

}  // namespace pulse::bridge
