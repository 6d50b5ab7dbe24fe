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
  EXPECT_EQ(c.tcp_listeners, (std::vector<Listener>{{"default", "127.0.0.1", 5672}}));
  EXPECT_EQ(c.stomp_tcp_listeners, (std::vector<Listener>{{"1", "127.0.0.1", 61613}}));
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
connection_max = 1000
vm_memory_high_watermark.absolute = 2GB
disk_free_limit.absolute = 512MiB
log.console.level = debug
log.file = false
management.tcp.port = 15673
management.tcp.ip = 0.0.0.0
stomp.listeners.tcp.1 = 61614
load_definitions = /etc/pulse/definitions.json
definitions.local.path = /etc/pulse/defs
pulse.guardian.warn_queue_size = 20000
pulse.data_dir = /var/lib/pulse
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
  EXPECT_EQ(c.connection_max, 1000u);
  EXPECT_EQ(c.memory_high_watermark_absolute, 2000000000u);
  EXPECT_EQ(c.disk_free_limit_absolute, 512u << 20);
  EXPECT_EQ(c.log_console_level, "debug");
  EXPECT_EQ(c.log_file, "");
  EXPECT_EQ(c.management_port, 15673);
  EXPECT_EQ(c.management_ip, "0.0.0.0");
  EXPECT_EQ(c.stomp_tcp_listeners, (std::vector<Listener>{{"1", "", 61614}}));
  EXPECT_EQ(c.load_definitions, "/etc/pulse/definitions.json");
  EXPECT_EQ(c.definitions_local_path, "/etc/pulse/defs");
  EXPECT_EQ(c.pulse.at("pulse.guardian.warn_queue_size"), "20000");
  EXPECT_EQ(c.pulse.at("pulse.data_dir"), "/var/lib/pulse");
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

}  // namespace
}  // namespace pulse::app
