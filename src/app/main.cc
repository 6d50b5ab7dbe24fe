// pulsed: the Pulse broker process.
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdlib>
#include <iostream>

#include "app/boot.h"
#include "app/config.h"
#include "definitions/json.h"
#include "app/management.h"
#include "app/persistence.h"
#include "persist/queue_storage.h"
#include "base/log.h"
#include "http/api.h"
#include "http/http_server.h"
#include "server/asio.h"
#include "server/server.h"
#include "store/data_dir.h"

namespace {

struct Flags {
  std::string data_dir;
  std::string amqp_listen;
  std::string http_listen;
  std::string prometheus_listen;
  std::string config_file;
  std::string definitions_file;
  std::string log_level;
};

[[noreturn]] void die(const std::string& msg) {
  std::cerr << "pulsed: " << msg << std::endl;
  std::exit(2);
}

pulse::server::ServerOptions server_options(const pulse::app::Config& c) {
  pulse::server::ServerOptions o;
  o.channel_max = c.channel_max;
  o.frame_max = c.frame_max;
  o.heartbeat = c.heartbeat;
  o.handshake_timeout_ms = c.handshake_timeout_ms;
  o.max_message_size = c.max_message_size;
  o.connection_max = c.connection_max.value_or(0);
  o.loopback_users = c.loopback_users;
  o.memory_high_watermark = c.memory_high_watermark_absolute.value_or(static_cast<uint64_t>(
      c.memory_high_watermark_relative *
      static_cast<double>(pulse::server::ResourceMonitor::total_memory_bytes())));
  o.disk_free_limit = c.disk_free_limit_absolute.value_or(
      c.disk_free_limit_relative
          ? static_cast<uint64_t>(
                *c.disk_free_limit_relative *
                static_cast<double>(pulse::server::ResourceMonitor::total_memory_bytes()))
          : pulse::app::kDefaultDiskFreeLimit);
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  pulse::init_logging();
  Flags flags;
  CLI::App cli{"pulsed: the Pulse message broker (AMQP 0-9-1)"};
  cli.add_option("--data-dir", flags.data_dir,
                 "data directory (default ./var/pulse or $PULSE_DATA_DIR)");
  cli.add_option("--amqp-listen", flags.amqp_listen,
                 "AMQP listener HOST:PORT (default 127.0.0.1:5672)");
  cli.add_option("--http-listen", flags.http_listen,
                 "management HTTP API listener HOST:PORT (default 127.0.0.1:15672)");
  cli.add_option("--prometheus-listen", flags.prometheus_listen,
                 "Prometheus /metrics listener HOST:PORT (default 127.0.0.1:15692)");
  cli.add_option("--config", flags.config_file, "rabbitmq.conf-style configuration file");
  cli.add_option("--definitions", flags.definitions_file,
                 "RabbitMQ definitions JSON to import at boot");
  cli.add_option("--log-level", flags.log_level, "debug, info, warning, error, none");
  CLI11_PARSE(cli, argc, argv);

  pulse::app::Config config;
  if (!flags.config_file.empty()) {
    auto c = pulse::app::load_config_file(flags.config_file);
    if (!c) die(c.error().text);
    config = std::move(*c);
  }
  std::string level = flags.log_level.empty() ? config.log_console_level : flags.log_level;
  if (!pulse::set_log_level(level)) die("unknown log level '" + level + "'");

  std::string data_dir = flags.data_dir;
  if (data_dir.empty()) {
    const char* env = std::getenv("PULSE_DATA_DIR");
    data_dir = env && *env ? env : "./var/pulse";
  }
  // A directory of another layout, or a damaged definitions database, stops the start (exit
  // 2): resetting it would silently lose every durable definition and message.
  auto dir = pulse::store::DataDir::open(data_dir);
  if (!dir) die(dir.error().text);
  auto store = (*dir)->open_definitions();
  if (!store) die(store.error().text);
  pulse::app::DefinitionsPersister persister(**store);

  std::vector<pulse::app::Listener> listeners = config.tcp_listeners;
  if (!flags.amqp_listen.empty()) {
    auto l = pulse::app::parse_listener(flags.amqp_listen);
    if (!l) die("invalid --amqp-listen '" + flags.amqp_listen + "' (expected HOST:PORT)");
    listeners = {*l};
  }
  pulse::app::Listener http_listener{"management", config.management_ip, config.management_port};
  if (!flags.http_listen.empty()) {
    auto l = pulse::app::parse_listener(flags.http_listen);
    if (!l) die("invalid --http-listen '" + flags.http_listen + "' (expected HOST:PORT)");
    http_listener = *l;
  }
  pulse::app::Listener prometheus_listener{"prometheus", config.prometheus_ip,
                                           config.prometheus_port};
  if (!flags.prometheus_listen.empty()) {
    auto l = pulse::app::parse_listener(flags.prometheus_listen);
    if (!l)
      die("invalid --prometheus-listen '" + flags.prometheus_listen + "' (expected HOST:PORT)");
    prometheus_listener = *l;
  }

  // Destruction runs in reverse: the broker (and its queues' stores) goes before the storage
  // it writes through, and the storage before the loop its completions are posted to.
  boost::asio::io_context io(1);
  std::unique_ptr<pulse::persist::QueueStorage> queues;
  pulse::broker::Broker broker;
  queues = std::make_unique<pulse::persist::QueueStorage>(
      **dir, broker, [&io](std::function<void()> fn) { boost::asio::post(io, std::move(fn)); });
  auto options = server_options(config);
  broker.set_message_storage(queues.get());
  // Definition commits stop fsyncing on the loop: the group commit syncs the WAL instead.
  if (auto s = (*store)->set_commit_sync(false); !s) die(s.error().text);
  pulse::broker::PagingLimits paging;
  paging.queue_bytes = config.paging_queue_memory_limit;
  paging.global_bytes = config.paging_global_memory_limit.value_or(
      static_cast<uint64_t>(config.memory_high_watermark_paging_ratio *
                            static_cast<double>(options.memory_high_watermark)));
  broker.set_paging_limits(paging);

  // RabbitMQ's default cluster name is the node name; a stored or configured one replaces it.
  char hostname[256] = "localhost";
  ::gethostname(hostname, sizeof hostname - 1);
  const std::string node_name = std::string("pulsed@") + hostname;
  broker.global_parameters().set_default_cluster_name(node_name);

  pulse::auth::AuthStore auth;
  if (auto s = pulse::app::boot_from_store(**store, (*dir)->initialised_now(), config, broker, auth,
                                           persister, queues.get());
      !s)
    die(data_dir + ": " + s.error().text);

  std::string defs_path = flags.definitions_file;
  if (defs_path.empty())
    defs_path =
        !config.load_definitions.empty() ? config.load_definitions : config.definitions_local_path;
  if (!defs_path.empty()) {
    auto defs = pulse::definitions::load_definitions_file(defs_path);
    if (!defs) die(defs_path + ": " + defs.error().text);
    if (auto s = pulse::app::import_definitions(*defs, broker, auth, **store, persister); !s)
      die(defs_path + ": " + s.error().text);
    spdlog::info("imported definitions from {}", defs_path);
  }

  if (auto s = queues->watch_definitions_wal((*store)->wal_path()); !s) die(s.error().text);
  queues->definitions_changed();  // boot-time changes are synced by the first group commit
  options.data_dir = data_dir;
  pulse::server::Server server(io, broker, auth, options);
  std::vector<boost::asio::ip::tcp::endpoint> amqp_eps;
  for (const auto& l : listeners) {
    std::string host = l.host.empty() ? "0.0.0.0" : l.host;
    auto ep = server.listen(host, l.port);
    if (!ep) die(ep.error().text);
    spdlog::info("listening on {}:{}", ep->address().to_string(), ep->port());
    amqp_eps.push_back(*ep);
  }

  // The management API runs on the same loop: its handlers read broker state directly.
  pulse::app::ManagementContext mctx{broker, auth, **store, persister, server, {}, 0, 0, {}};
  for (const auto& ep : amqp_eps)
    mctx.listeners.push_back({"amqp", ep.address().to_string(), ep.port()});
  mctx.memory_high_watermark = options.memory_high_watermark;
  mctx.disk_free_limit = options.disk_free_limit;
  mctx.data_dir = data_dir;
  pulse::http::Api api(broker, auth, pulse::app::management_hooks(mctx), node_name);
  pulse::http::HttpServer http_server(io, api);
  {
    std::string host = http_listener.host.empty() ? "0.0.0.0" : http_listener.host;
    auto ep = http_server.listen(host, http_listener.port);
    if (!ep) die(ep.error().text);
    mctx.listeners.push_back({"http", ep->address().to_string(), ep->port()});
    spdlog::info("management API listening on {}:{}", ep->address().to_string(), ep->port());
  }
  {
    // A second listener of the same server, answering /metrics only (rabbitmq_prometheus).
    std::string host = prometheus_listener.host.empty() ? "0.0.0.0" : prometheus_listener.host;
    auto ep = http_server.listen(host, prometheus_listener.port, /*metrics_only=*/true);
    if (!ep) die(ep.error().text);
    mctx.listeners.push_back({"http/prometheus", ep->address().to_string(), ep->port()});
    spdlog::info("Prometheus metrics listening on {}:{}", ep->address().to_string(), ep->port());
  }

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code, int sig) {
    spdlog::info("received signal {}, shutting down", sig);
    server.shutdown();
    http_server.shutdown();
    // Give connections a moment to flush their close frames, then stop.
    auto timer = std::make_shared<boost::asio::steady_timer>(io, std::chrono::milliseconds(200));
    timer->async_wait([&io, timer](boost::system::error_code) { io.stop(); });
  });
  std::signal(SIGPIPE, SIG_IGN);
  io.run();
  // Whatever was written but not yet synced (acks, delivery marks) goes to disk now.
  queues->sync_now();
  if (auto s = queues->mark_clean_shutdown(); !s)
    spdlog::error("could not record the clean stop: {}", s.error().text);
  spdlog::info("stopped");
  return 0;
}
