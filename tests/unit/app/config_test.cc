#include "app/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace pulse::app {
namespace {

std::string error_of(std::string_view text) {
  auto r = parse_config(text, "rabbitmq.conf");
  return r.ok() ? std::string("(parsed)") : r.error().text;
}

TEST(Config, Defaults) {
  auto r = parse_config("");
  ASSERT_TRUE(r.ok());
  const Config& c = *r;
  // Both loopbacks, the IPv6 one only where the machine has IPv6.
  EXPECT_EQ(c.tcp_listeners, (std::vector<Listener>{{"default", "127.0.0.1", 5672},
                                                    {"default", "::1", 5672, false}}));
  EXPECT_TRUE(c.settings.empty());
  EXPECT_EQ(c.default_user, "guest");
  EXPECT_EQ(c.default_pass, "guest");
  EXPECT_EQ(c.default_vhost, "/");
  EXPECT_EQ(c.default_permissions_configure, ".*");
  EXPECT_EQ(c.default_user_tags, std::vector<std::string>{"administrator"});
  EXPECT_EQ(c.loopback_users, std::vector<std::string>{"guest"});
  EXPECT_EQ(c.heartbeat, 60);
  EXPECT_EQ(c.frame_max, 131072u);
  EXPECT_EQ(c.channel_max, 2047);
  EXPECT_EQ(c.max_message_size, 134217728u);
  EXPECT_EQ(c.handshake_timeout_ms, 10000u);
  EXPECT_EQ(c.consumer_timeout_ms, 1800000u);
  EXPECT_FALSE(c.connection_max.has_value());
  EXPECT_DOUBLE_EQ(c.memory_high_watermark_relative, 0.4);
  EXPECT_FALSE(c.memory_high_watermark_absolute.has_value());
  EXPECT_EQ(c.management_ip, "127.0.0.1");
  EXPECT_EQ(c.management_port, 15672);
  EXPECT_FALSE(c.cluster_name.has_value());
  auto named = parse_config("cluster_name = pulse-prod\n");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->cluster_name, "pulse-prod");
}

TEST(Config, RealisticFile) {
  auto r = parse_config(R"(# pulsed config
listeners.tcp.default = 5673
listeners.tcp.local   = [::1]:5674
listeners.tcp.v4 = 10.0.0.1:5675

default_user = admin
default_pass = 's3cr#t'   # quoted so '#' is part of the password
default_vhost = pulse
default_permissions.configure = ^$
default_user_tags.administrator = true
default_user_tags.monitoring = true
loopback_users.guest = false
heartbeat = 30
frame_max = 0
channel_max = 128
max_message_size = 16777216
handshake_timeout = 5000
consumer_timeout = 60000
connection_max = 1000
vm_memory_high_watermark.absolute = 2GB
disk_free_limit.absolute = 512MiB
log.console = true
log.console.level = debug
log.file = false
management.tcp.port = 15673
management.tcp.ip = 0.0.0.0
load_definitions = /etc/pulse/definitions.json
definitions.import_backend = local_filesystem
definitions.local.path = /etc/pulse/defs
)",
                        "pulsed.conf");
  ASSERT_TRUE(r.ok()) << r.error().text;
  const Config& c = *r;
  EXPECT_EQ(c.tcp_listeners,
            (std::vector<Listener>{
                {"default", "", 5673}, {"local", "::1", 5674}, {"v4", "10.0.0.1", 5675}}));
  EXPECT_EQ(c.default_user, "admin");
  EXPECT_EQ(c.default_pass, "s3cr#t");
  EXPECT_EQ(c.default_vhost, "pulse");
  EXPECT_EQ(c.default_permissions_configure, "^$");
  EXPECT_EQ(c.default_user_tags, (std::vector<std::string>{"administrator", "monitoring"}));
  EXPECT_TRUE(c.loopback_users.empty());
  EXPECT_EQ(c.heartbeat, 30);
  EXPECT_EQ(c.frame_max, 0u);
  EXPECT_EQ(c.channel_max, 128);
  EXPECT_EQ(c.max_message_size, 16777216u);
  EXPECT_EQ(c.handshake_timeout_ms, 5000u);
  EXPECT_EQ(c.consumer_timeout_ms, 60000u);
  EXPECT_EQ(c.connection_max, 1000u);
  EXPECT_EQ(c.memory_high_watermark_absolute, 2000000000u);
  EXPECT_EQ(c.disk_free_limit_absolute, 512u << 20);
  EXPECT_EQ(c.log_console_level, "debug");
  EXPECT_EQ(c.management_port, 15673);
  EXPECT_EQ(c.management_ip, "0.0.0.0");
  EXPECT_EQ(c.load_definitions, "/etc/pulse/definitions.json");
  EXPECT_EQ(c.definitions_local_path, "/etc/pulse/defs");
  EXPECT_EQ(c.settings.at("default_pass"), "s3cr#t");
  EXPECT_EQ(c.settings.at("listeners.tcp.local"), "[::1]:5674");
}

TEST(Config, NoneAndInfinity) {
  auto r = parse_config(
      "listeners.tcp = none\nloopback_users = none\nconnection_max = infinity\n"
      "vm_memory_high_watermark.relative = 0.6\n");
  ASSERT_TRUE(r.ok()) << r.error().text;
  EXPECT_TRUE(r->tcp_listeners.empty());
  EXPECT_TRUE(r->loopback_users.empty());
  EXPECT_FALSE(r->connection_max.has_value());
  EXPECT_DOUBLE_EQ(r->memory_high_watermark_relative, 0.6);
}

TEST(Config, ListSettingsReplaceDefaultsOnce) {
  auto r = parse_config(
      "loopback_users.alice = true\nloopback_users.bob = true\n"
      "loopback_users.alice = false\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->loopback_users, std::vector<std::string>{"bob"});
}

TEST(Config, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(error_of("heartbeat = 10\nlisteners.tcp.default = 5672\nbogus.key = 1\n"),
            "rabbitmq.conf:3: unknown key 'bogus.key'");
  EXPECT_EQ(error_of("\n# comment\nheartbeat = ten\n"),
            "rabbitmq.conf:3: invalid value 'ten' for key 'heartbeat': expected an integer");
  EXPECT_NE(error_of("heartbeat = 70000").find("expected an integer in 0..65535"),
            std::string::npos);
  // RabbitMQ's schema: a non-zero positive integer.
  EXPECT_NE(error_of("consumer_timeout = 0").find("key 'consumer_timeout'"), std::string::npos);
  EXPECT_NE(error_of("listeners.tcp.default = localhost:").find("key 'listeners.tcp.default'"),
            std::string::npos);
  EXPECT_NE(error_of("vm_memory_high_watermark.absolute = 2TB").find("expected a size"),
            std::string::npos);
  EXPECT_NE(error_of("loopback_users.guest = yes").find("expected true or false"),
            std::string::npos);
  EXPECT_NE(error_of("loopback_users = all").find("only 'none'"), std::string::npos);
  EXPECT_EQ(error_of("just some words"), "rabbitmq.conf:1: expected 'key = value'");
  EXPECT_EQ(error_of("default_user ="), "rabbitmq.conf:1: missing value for key 'default_user'");
  EXPECT_NE(error_of("default_pass = 'abc").find("unterminated"), std::string::npos);
  EXPECT_NE(error_of("log.console.level = loud").find("log level"), std::string::npos);
  EXPECT_NE(error_of("max_message_size = 1000000000").find("536870912"), std::string::npos);
  EXPECT_NE(error_of("frame_max = 100").find("4096"), std::string::npos);
  EXPECT_EQ(error_of("pulse = 1"), "rabbitmq.conf:1: unknown key 'pulse'");
  EXPECT_EQ(error_of("a..b = 1"), "rabbitmq.conf:1: invalid key 'a..b'");
}

// Every key is either used or refused: a typo in a family that used to take any sub-key stops
// the start like any unknown key, on the right line.
TEST(Config, UnknownKeysInEveryFamily) {
  EXPECT_EQ(error_of("heartbeat = 10\nssl_options.certfle = /etc/cert.pem\n"),
            "rabbitmq.conf:2: unknown key 'ssl_options.certfle'");
  EXPECT_EQ(error_of("\n\n\npulse.guardian.warn_queue_sise = 100\n")
                .rfind("rabbitmq.conf:4: unknown key 'pulse.guardian.warn_queue_sise' (the "
                       "guardian's keys are pulse.guardian.enabled, .interval, ",
                       0),
            0u);
  EXPECT_EQ(error_of("pulse.data_dir = /var/lib/pulse"),
            "rabbitmq.conf:1: unknown key 'pulse.data_dir'");
  EXPECT_EQ(error_of("stomp.listeners.tpc.1 = 61613"),
            "rabbitmq.conf:1: unknown key 'stomp.listeners.tpc.1'");
  EXPECT_EQ(error_of("management.ssl.certfile.x = a"),
            "rabbitmq.conf:1: unknown key 'management.ssl.certfile.x'");
}

TEST(Config, StompKeys) {
  Config def;
  EXPECT_EQ(def.stomp_tcp_listeners, (std::vector<Listener>{{"default", "127.0.0.1", 61613}}));
  EXPECT_TRUE(def.stomp_ssl_listeners.empty());
  auto c = parse_config(
      "stomp.listeners.tcp.1 = 0.0.0.0:61614\nstomp.default_user = u\nstomp.default_pass = p\n"
      "stomp.default_vhost = v\nstomp.implicit_connect = true\nstomp.hide_server_info = true\n"
      "stomp.login_timeout = 500\nstomp.default_topic_exchange = t\n"
      "stomp.default_nack_requeue = false\nstomp.num_acceptors.tcp = 4\n");
  ASSERT_TRUE(c) << c.error().text;
  EXPECT_EQ(c->stomp_tcp_listeners, (std::vector<Listener>{{"1", "0.0.0.0", 61614}}));
  EXPECT_EQ(c->stomp.default_login, "u");
  EXPECT_EQ(c->stomp.default_passcode, "p");
  EXPECT_EQ(c->stomp.default_vhost, "v");
  EXPECT_TRUE(c->stomp.implicit_connect);
  EXPECT_TRUE(c->stomp.hide_server_info);
  EXPECT_EQ(c->stomp.login_timeout_ms, 500u);
  EXPECT_EQ(c->stomp.default_topic_exchange, "t");
  EXPECT_FALSE(c->stomp.default_nack_requeue);
  auto none = parse_config("stomp.listeners.tcp = none\n");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->stomp_tcp_listeners.empty());
  EXPECT_EQ(error_of("stomp.listeners.ssl.1 = 61614"),
            "rabbitmq.conf: stomp.listeners.ssl needs ssl_options.certfile and "
            "ssl_options.keyfile");
  EXPECT_NE(error_of("stomp.ssl_cert_login = true").find("not supported yet"), std::string::npos);
  EXPECT_NE(error_of("stomp.implicit_connect = maybe").find("invalid value"), std::string::npos);
}

TEST(Config, WebStompKeys) {
  auto d = parse_config("");
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->web_stomp_listeners.tcp_enabled);
  EXPECT_EQ(d->web_stomp_listeners.tcp_ip, "127.0.0.1");
  EXPECT_EQ(d->web_stomp_listeners.tcp_port, 15674);
  EXPECT_FALSE(d->web_stomp_listeners.ssl_configured);
  EXPECT_EQ(d->web_stomp.path, "/ws");
  EXPECT_FALSE(d->web_stomp.binary_frames);
  auto c = parse_config(
      "web_stomp.tcp.port = 12345\nweb_stomp.tcp.ip = 0.0.0.0\nweb_stomp.ws_path = /stomp\n"
      "web_stomp.ws_frame = binary\nweb_stomp.ws_opts.max_frame_size = 1000\n"
      "web_stomp.ws_opts.idle_timeout = 0\nweb_stomp.ws_opts.compress = false\n"
      "web_stomp.ssl.port = 15673\nweb_stomp.ssl.certfile = c.pem\n"
      "web_stomp.ssl.keyfile = k.pem\nweb_stomp.ssl.versions.1 = tlsv1.2\n"
      "web_stomp.num_acceptors.tcp = 5\nweb_stomp.use_http_auth = false\n");
  ASSERT_TRUE(c) << c.error().text;
  EXPECT_EQ(c->web_stomp_listeners.tcp_port, 12345);
  EXPECT_EQ(c->web_stomp_listeners.tcp_ip, "0.0.0.0");
  EXPECT_EQ(c->web_stomp.path, "/stomp");
  EXPECT_TRUE(c->web_stomp.binary_frames);
  EXPECT_EQ(c->web_stomp.max_message_size, 1000u);
  EXPECT_EQ(c->web_stomp.idle_timeout.count(), 0);
  EXPECT_FALSE(c->web_stomp.compress);
  EXPECT_TRUE(c->web_stomp_listeners.ssl_configured);
  EXPECT_EQ(c->web_stomp_listeners.ssl_port, 15673);
  EXPECT_EQ(c->web_stomp_listeners.ssl.certfile, "c.pem");
  auto off = parse_config("web_stomp.tcp.listener = none\n");
  ASSERT_TRUE(off);
  EXPECT_FALSE(off->web_stomp_listeners.tcp_enabled);
  auto l = parse_config("web_stomp.tcp.listener = 127.0.0.2:1234\n");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->web_stomp_listeners.tcp_ip, "127.0.0.2");
  EXPECT_EQ(l->web_stomp_listeners.tcp_port, 1234);
  EXPECT_EQ(error_of("web_stomp.ws_frame = utf8"),
            "rabbitmq.conf:1: invalid value 'utf8' for key 'web_stomp.ws_frame': expected text "
            "or binary");
  EXPECT_NE(error_of("web_stomp.ws_path = ws").find("expected a path"), std::string::npos);
  EXPECT_EQ(error_of("web_stomp.ssl.certfile = c.pem"),
            "rabbitmq.conf: web_stomp.ssl.port is required when web_stomp.ssl.* is set");
  EXPECT_EQ(error_of("web_stomp.ssl.port = 15673"),
            "rabbitmq.conf: web_stomp.ssl.port needs web_stomp.ssl.certfile and "
            "web_stomp.ssl.keyfile");
  EXPECT_FALSE(d->web_stomp.use_http_auth);
  EXPECT_FALSE(c->web_stomp.use_http_auth);
  auto h = parse_config("web_stomp.use_http_auth = true\n");
  ASSERT_TRUE(h) << h.error().text;
  EXPECT_TRUE(h->web_stomp.use_http_auth);
  EXPECT_NE(error_of("web_stomp.use_http_auth = yes").find("web_stomp.use_http_auth"),
            std::string::npos);
  EXPECT_FALSE(d->web_stomp.max_connections);
  auto m = parse_config("web_stomp.max_connections = 10\n");
  ASSERT_TRUE(m) << m.error().text;
  EXPECT_EQ(m->web_stomp.max_connections, 10u);
  auto inf = parse_config("web_stomp.max_connections = 10\nweb_stomp.max_connections = infinity\n");
  ASSERT_TRUE(inf) << inf.error().text;
  EXPECT_FALSE(inf->web_stomp.max_connections);
  EXPECT_EQ(error_of("web_stomp.max_connections = lots"),
            "rabbitmq.conf:1: invalid value 'lots' for key 'web_stomp.max_connections': expected "
            "infinity or a number");
  EXPECT_EQ(error_of("web_stomp.tcp = none"), "rabbitmq.conf:1: unknown key 'web_stomp.tcp'");
  EXPECT_EQ(error_of("web_stomp.bogus = 1"), "rabbitmq.conf:1: unknown key 'web_stomp.bogus'");
}

TEST(Config, HttpTimeouts) {
  auto d = parse_config("");
  ASSERT_TRUE(d);
  // cowboy's defaults, which RabbitMQ's listeners keep unless told otherwise.
  for (const auto* t : {&d->management_tcp_timeouts, &d->prometheus_tcp_timeouts,
                        &d->management_ssl.timeouts, &d->prometheus_ssl.timeouts}) {
    EXPECT_EQ(t->request, std::chrono::milliseconds(5000));
    EXPECT_EQ(t->idle, std::chrono::milliseconds(60000));
  }
  EXPECT_FALSE(d->management_tcp_configured);
  auto c = parse_config(
      "management.tcp.request_timeout = 2000\nmanagement.tcp.idle_timeout = 3000\n"
      "prometheus.tcp.request_timeout = 4000\nprometheus.tcp.idle_timeout = 0\n"
      "management.ssl.port = 15671\nmanagement.ssl.certfile = c.pem\n"
      "management.ssl.keyfile = k.pem\nmanagement.ssl.request_timeout = 7000\n"
      "management.ssl.idle_timeout = 8000\n");
  ASSERT_TRUE(c) << c.error().text;
  EXPECT_EQ(c->management_tcp_timeouts.request, std::chrono::milliseconds(2000));
  EXPECT_EQ(c->management_tcp_timeouts.idle, std::chrono::milliseconds(3000));
  EXPECT_EQ(c->prometheus_tcp_timeouts.request, std::chrono::milliseconds(4000));
  EXPECT_EQ(c->prometheus_tcp_timeouts.idle, std::chrono::milliseconds(0));
  EXPECT_EQ(c->management_ssl.timeouts.request, std::chrono::milliseconds(7000));
  EXPECT_EQ(c->management_ssl.timeouts.idle, std::chrono::milliseconds(8000));
  EXPECT_EQ(c->prometheus_ssl.timeouts, Config().prometheus_ssl.timeouts);
  // As any management.tcp.* key in RabbitMQ, they configure the plaintext listener.
  EXPECT_TRUE(c->management_tcp_configured);
  EXPECT_TRUE(c->prometheus_tcp_configured);
  EXPECT_EQ(error_of("management.tcp.request_timeout = soon"),
            "rabbitmq.conf:1: invalid value 'soon' for key 'management.tcp.request_timeout': "
            "expected an integer");
  EXPECT_EQ(error_of("prometheus.ssl.idle_timeout = 1000"),
            "rabbitmq.conf: prometheus.ssl.port is required when prometheus.ssl.* is set");
}

TEST(Config, ReservedKeysAreNotSupportedYet) {
  EXPECT_EQ(error_of("web_stomp.cowboy_opts.max_keepalive = 5"),
            "rabbitmq.conf:1: key 'web_stomp.cowboy_opts.max_keepalive' is not supported yet "
            "(Web-STOMP's cowboy_opts)");
  EXPECT_EQ(error_of("stomp.tcp_listen_options.backlog = 128"),
            "rabbitmq.conf:1: key 'stomp.tcp_listen_options.backlog' is not supported yet "
            "(STOMP's tcp_listen_options)");
  EXPECT_EQ(error_of("log.file.level = debug"),
            "rabbitmq.conf:1: key 'log.file.level' is not supported yet (logging to a file)");
  EXPECT_EQ(error_of("log.file = /var/log/pulse/pulse.log"),
            "rabbitmq.conf:1: invalid value '/var/log/pulse/pulse.log' for key 'log.file': "
            "logging to a file is not supported yet (only 'false' is accepted)");
  EXPECT_NE(error_of("log.console = false").find("not supported yet"), std::string::npos);
  EXPECT_NE(error_of("definitions.import_backend = https").find("not supported yet"),
            std::string::npos);
}

TEST(Config, GuardianKeys) {
  auto off = parse_config("");
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->guardian.enabled);  // a bare pulsed behaves like RabbitMQ

  auto r = parse_config(
      "pulse.guardian.enabled = true\n"
      "pulse.guardian.interval = 1\n"
      "pulse.guardian.warn_queue_size = 5\n"
      "pulse.guardian.delete_queue_size = 10\n"
      "pulse.guardian.idle_queue_expiry = 3600\n"
      "pulse.guardian.max_connection_age = 86400\n"
      "pulse.guardian.owners.build.bot.delete_queue_size = 50\n"
      "pulse.guardian.unbounded.1 = queue/alice/archive\n"
      "pulse.guardian.unbounded.2 = 'queue/ci/#1'\n"
      "pulse.guardian.unbounded.2.vhost = /ci\n");
  ASSERT_TRUE(r.ok()) << r.error().text;
  const auto& g = r->guardian;
  EXPECT_TRUE(g.enabled);
  EXPECT_EQ(g.interval, std::chrono::seconds(1));
  EXPECT_EQ(g.thresholds, (guardian::Thresholds{5, 10}));
  EXPECT_EQ(g.idle_queue_expiry, std::chrono::seconds(3600));
  EXPECT_EQ(g.max_connection_age, std::chrono::seconds(86400));
  EXPECT_EQ(g.owners.at("build.bot").delete_queue_size, 50u);
  EXPECT_EQ(g.unbounded,
            (std::set<guardian::QueueRef>{{"/", "queue/alice/archive"}, {"/ci", "queue/ci/#1"}}));
  EXPECT_EQ(r->settings.at("pulse.guardian.interval"), "1");
}

TEST(Config, GuardianErrorsNameFileLineAndKey) {
  EXPECT_EQ(error_of("heartbeat = 10\npulse.guardian.interval = ten\n"),
            "rabbitmq.conf:2: invalid value 'ten' for key 'pulse.guardian.interval': expected a "
            "number of seconds (a whole number from 0 to 86400)");
  EXPECT_EQ(error_of("pulse.guardian.enabled = on"),
            "rabbitmq.conf:1: invalid value 'on' for key 'pulse.guardian.enabled': expected true "
            "or false");
  EXPECT_EQ(error_of("pulse.guardian.poll_interval = 5")
                .rfind("rabbitmq.conf:1: unknown key 'pulse.guardian.poll_interval'", 0),
            0u);
  // Checked as a whole once the file is read: no line, the keys named.
  EXPECT_EQ(error_of("pulse.guardian.warn_queue_size = 9000\n"),
            "rabbitmq.conf: pulse.guardian.warn_queue_size (9000) must be below "
            "delete_queue_size (8000)");
  EXPECT_EQ(error_of("pulse.guardian.interval = 0\n"),
            "rabbitmq.conf: pulse.guardian.interval (0) must be at least 1 second");
  // Even with the guardian off: a file that would break the day it is turned on.
  EXPECT_EQ(error_of("pulse.guardian.enabled = false\npulse.guardian.delete_queue_size = 1\n"),
            "rabbitmq.conf: pulse.guardian.warn_queue_size (2000) must be below "
            "delete_queue_size (1)");
}

TEST(Config, AccountKeys) {
  auto r = parse_config(
      "pulse.accounts.reserved_users = root, ops\n"
      "pulse.accounts.vhosts = /,ci\n"
      "pulse.accounts.rotation_interval = 600\n"
      "pulse.accounts.connection_url = amqps://pulse.example.org:5671\n");
  ASSERT_TRUE(r.ok()) << r.error().text;
  EXPECT_EQ(r->accounts.reserved_users, (std::set<std::string>{"root", "ops"}));
  EXPECT_EQ(r->accounts.vhosts, (std::vector<std::string>{"/", "ci"}));
  EXPECT_EQ(r->accounts.rotation_interval, std::chrono::seconds(600));
  EXPECT_EQ(r->accounts.connection_url, "amqps://pulse.example.org:5671");
  EXPECT_EQ(r->settings.at("pulse.accounts.rotation_interval"), "600");
  EXPECT_EQ(parse_config("")->accounts.rotation_interval, std::chrono::seconds(3600));

  EXPECT_EQ(error_of("\npulse.accounts.rotation_intervall = 600\n")
                .rfind("rabbitmq.conf:2: unknown key 'pulse.accounts.rotation_intervall' (", 0),
            0u);
  EXPECT_EQ(error_of("pulse.accounts.rotation_interval = 5"),
            "rabbitmq.conf:1: pulse.accounts.rotation_interval (5): must be between 60 and "
            "604800 seconds");
  EXPECT_NE(error_of("pulse.accounts.connection_url = amqp://u:p@host").find("credentials"),
            std::string::npos);
}

TEST(Config, SupportedKeysBesideRefusedOnesStillWork) {
  auto r = parse_config("management.tcp.port = 15673\nlog.console.level = warning\n");
  ASSERT_TRUE(r.ok()) << r.error().text;
  EXPECT_EQ(r->management_port, 15673);
  EXPECT_EQ(r->log_console_level, "warning");
}

// pulse.namespaces.strict: off unless set (a bare pulsed behaves like RabbitMQ); a bad value
// or a typo in the family stops the start naming the key.
TEST(Config, StrictNamespaces) {
  auto d = parse_config("");
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->pulse_namespaces_strict);
  auto on = parse_config("pulse.namespaces.strict = true\n");
  ASSERT_TRUE(on.ok()) << on.error().text;
  EXPECT_TRUE(on->pulse_namespaces_strict);
  EXPECT_EQ(error_of("pulse.namespaces.strict = yes"),
            "rabbitmq.conf:1: invalid value 'yes' for key 'pulse.namespaces.strict': expected "
            "true or false");
  EXPECT_EQ(error_of("pulse.namespaces.strikt = true"),
            "rabbitmq.conf:1: unknown key 'pulse.namespaces.strikt'");
  EXPECT_EQ(error_of("pulse.namespaces = true"), "rabbitmq.conf:1: unknown key 'pulse.namespaces'");
}

// pulse.io.gather_window: 200 µs unless set, 0 turns gathering off, bounded at 10 ms.
TEST(Config, IoGatherWindow) {
  auto d = parse_config("");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->io_gather_window_us, 200u);
  auto off = parse_config("pulse.io.gather_window = 0\n");
  ASSERT_TRUE(off.ok()) << off.error().text;
  EXPECT_EQ(off->io_gather_window_us, 0u);
  EXPECT_EQ(error_of("pulse.io.gather_window = 20000"),
            "rabbitmq.conf:1: invalid value '20000' for key 'pulse.io.gather_window': expected "
            "an integer in 0..10000");
  EXPECT_EQ(error_of("pulse.io.gather_window = 1ms"),
            "rabbitmq.conf:1: invalid value '1ms' for key 'pulse.io.gather_window': expected an "
            "integer");
}

TEST(Config, DiffSettingsSplitsReloadableKeys) {
  auto a = parse_config("log.console.level = info\nheartbeat = 10\nchannel_max = 5\n");
  auto b = parse_config("log.console.level = debug\nheartbeat = 20\nframe_max = 8192\n");
  ASSERT_TRUE(a.ok() && b.ok());
  auto d = diff_settings(*a, *b);
  EXPECT_EQ(d.reloadable, std::vector<std::string>{"log.console.level"});
  EXPECT_EQ(d.need_restart, (std::vector<std::string>{"channel_max", "frame_max", "heartbeat"}));
  auto same = diff_settings(*a, *a);
  EXPECT_TRUE(same.reloadable.empty() && same.need_restart.empty());
}

TEST(Config, PulseLayerKeysAreReloadableButStrictNamespacesNeedARestart) {
  auto a = parse_config("pulse.guardian.warn_queue_size = 10\n");
  auto b = parse_config(
      "pulse.guardian.warn_queue_size = 20\npulse.smtp.host = localhost\npulse.smtp.from = "
      "g@example.com\npulse.accounts.rotation_interval = 120\npulse.namespaces.strict = true\n");
  ASSERT_TRUE(a.ok() && b.ok()) << (a.ok() ? b.error().text : a.error().text);
  auto d = diff_settings(*a, *b);
  EXPECT_EQ(d.reloadable, (std::vector<std::string>{"pulse.accounts.rotation_interval",
                                                    "pulse.guardian.warn_queue_size",
                                                    "pulse.smtp.from", "pulse.smtp.host"}));
  EXPECT_EQ(d.need_restart, std::vector<std::string>{"pulse.namespaces.strict"});
}

TEST(Config, InformationUnits) {
  EXPECT_EQ(parse_information_unit("1000000"), 1000000u);
  EXPECT_EQ(parse_information_unit("1GB"), 1000000000u);
  EXPECT_EQ(parse_information_unit("512MiB"), 512u << 20);
  EXPECT_EQ(parse_information_unit("10k"), 10240u);
  EXPECT_EQ(parse_information_unit("10kB"), 10000u);
  EXPECT_EQ(parse_information_unit("3G"), 3ull << 30);
  EXPECT_FALSE(parse_information_unit("").has_value());
  EXPECT_FALSE(parse_information_unit("GB").has_value());
  EXPECT_FALSE(parse_information_unit("1.5GB").has_value());
  EXPECT_FALSE(parse_information_unit("1 GB").has_value());
  EXPECT_FALSE(parse_information_unit("99999999999999999999").has_value());
}

TEST(Config, Listeners) {
  EXPECT_EQ(parse_listener("5672"), (Listener{"", "", 5672}));
  EXPECT_EQ(parse_listener("127.0.0.1:5672"), (Listener{"", "127.0.0.1", 5672}));
  EXPECT_EQ(parse_listener("[::1]:5672"), (Listener{"", "::1", 5672}));
  EXPECT_EQ(parse_listener("::1:5672"), (Listener{"", "::1", 5672}));
  EXPECT_FALSE(parse_listener("0").has_value());
  EXPECT_FALSE(parse_listener("65536").has_value());
  EXPECT_FALSE(parse_listener(":5672").has_value());
  EXPECT_FALSE(parse_listener("[::1]5672").has_value());
  EXPECT_FALSE(parse_listener("host").has_value());
  EXPECT_FALSE(parse_listener("[]:5672").has_value());
  EXPECT_FALSE(parse_listener("127.0.0.1:56x72").has_value());
  auto r = parse_config("listeners.tcp.v6 = [::1]:5673\n");
  ASSERT_TRUE(r.ok()) << r.error().text;
  EXPECT_EQ(r->tcp_listeners, (std::vector<Listener>{{"v6", "::1", 5673}}));
}

TEST(Config, LoadFile) {
  std::string path = ::testing::TempDir() + "pulse_config_test.conf";
  {
    std::ofstream out(path);
    out << "heartbeat = 5\nnope = 1\n";
  }
  auto r = load_config_file(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().text, path + ":2: unknown key 'nope'");
  std::remove(path.c_str());
  EXPECT_FALSE(load_config_file(path).ok());
}

TEST(Config, TlsListenersAndOptions) {
  auto c = parse_config(
      "listeners.ssl.default = 5671\n"
      "ssl_options.cacertfile = /ca.pem\nssl_options.certfile = /c.pem\n"
      "ssl_options.keyfile = /k.pem\nssl_options.verify = verify_peer\n"
      "ssl_options.fail_if_no_peer_cert = true\nssl_options.versions.1 = tlsv1.3\n"
      "ssl_options.ciphers.1 = TLS_AES_256_GCM_SHA384\nssl_options.depth = 2\n"
      "auth_mechanisms.1 = EXTERNAL\nauth_mechanisms.2 = PLAIN\n"
      "ssl_cert_login_from = common_name\n"
      "management.ssl.port = 15671\nmanagement.ssl.certfile = /m.pem\n"
      "management.ssl.keyfile = /mk.pem\n",
      "rabbitmq.conf");
  ASSERT_TRUE(c.ok()) << c.error().text;
  ASSERT_EQ(c->ssl_listeners.size(), 1u);
  EXPECT_EQ(c->ssl_listeners[0].port, 5671);
  EXPECT_EQ(c->ssl_listeners[0].host, "");
  EXPECT_EQ(c->ssl_options.cacertfile, "/ca.pem");
  EXPECT_TRUE(c->ssl_options.verify_peer);
  EXPECT_TRUE(c->ssl_options.fail_if_no_peer_cert);
  EXPECT_EQ(c->ssl_options.versions, std::vector<std::string>{"tlsv1.3"});
  EXPECT_EQ(c->ssl_options.depth, 2);
  EXPECT_EQ(c->auth_mechanisms, (std::vector<std::string>{"EXTERNAL", "PLAIN"}));
  EXPECT_EQ(c->ssl_cert_login.from, pulse::tls::LoginFrom::kCommonName);
  EXPECT_TRUE(c->management_ssl.configured);
  EXPECT_EQ(*c->management_ssl.port, 15671);
  EXPECT_EQ(c->management_ssl.tls.certfile, "/m.pem");
  EXPECT_FALSE(c->management_tcp_configured);
  EXPECT_FALSE(c->prometheus_ssl.configured);
}

TEST(Config, CrlCheckUnderEveryTlsPrefix) {
  auto c = parse_config(
      "ssl_options.crl_check = peer\nmanagement.ssl.port = 15671\n"
      "management.ssl.certfile = /m.pem\nmanagement.ssl.keyfile = /mk.pem\n"
      "management.ssl.crl_check = true\nprometheus.ssl.port = 15691\n"
      "prometheus.ssl.certfile = /m.pem\nprometheus.ssl.keyfile = /mk.pem\n"
      "prometheus.ssl.crl_check = best_effort\n",
      "rabbitmq.conf");
  ASSERT_TRUE(c.ok()) << c.error().text;
  EXPECT_EQ(c->ssl_options.crl_check, pulse::tls::CrlCheck::kPeer);
  EXPECT_EQ(c->management_ssl.tls.crl_check, pulse::tls::CrlCheck::kTrue);
  EXPECT_EQ(c->prometheus_ssl.tls.crl_check, pulse::tls::CrlCheck::kBestEffort);
  EXPECT_EQ(error_of("management.ssl.crl_check = yes"),
            "rabbitmq.conf:1: invalid value 'yes' for key 'management.ssl.crl_check': expected "
            "true, false, peer or best_effort");
}

TEST(Config, TlsOptionsRefusedByName) {
  EXPECT_EQ(error_of("ssl_options.versions.1 = tlsv1.1"),
            "rabbitmq.conf:1: invalid value 'tlsv1.1' for key 'ssl_options.versions.1': tlsv1.1 "
            "is not supported: pulsed speaks TLS 1.2 and 1.3 only");
  EXPECT_EQ(error_of("ssl_options.crl_check = maybe"),
            "rabbitmq.conf:1: invalid value 'maybe' for key 'ssl_options.crl_check': expected "
            "true, false, peer or best_effort");
  EXPECT_EQ(error_of("ssl_options.verify = yes"),
            "rabbitmq.conf:1: invalid value 'yes' for key 'ssl_options.verify': expected "
            "verify_peer or verify_none");
  EXPECT_EQ(error_of("listeners.ssl.default = 5671"),
            "rabbitmq.conf: listeners.ssl needs ssl_options.certfile and ssl_options.keyfile");
  EXPECT_EQ(error_of("management.ssl.certfile = /c.pem\nmanagement.ssl.keyfile = /k.pem"),
            "rabbitmq.conf: management.ssl.port is required when management.ssl.* is set");
  EXPECT_EQ(error_of("auth_mechanisms.1 = ANONYMOUS"),
            "rabbitmq.conf:1: invalid value 'ANONYMOUS' for key 'auth_mechanisms.1': expected "
            "PLAIN, AMQPLAIN or EXTERNAL");
}

}  // namespace
}  // namespace pulse::app
