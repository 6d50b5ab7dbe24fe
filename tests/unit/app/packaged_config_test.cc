// The default configuration the Debian package installs (packaging/pulse.conf): it must parse,
// and every commented `# key = value` example in it must be a key pulsed accepts, with the
// value pulsed really uses by default, since the file tells admins they are the defaults.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "app/config.h"

namespace pulse::app {
namespace {

std::string packaged_config() {
  std::ifstream in(PULSE_PACKAGED_CONFIG);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(PackagedConfig, ParsesAndListensOnLoopback) {
  std::string text = packaged_config();
  ASSERT_FALSE(text.empty()) << PULSE_PACKAGED_CONFIG;
  auto r = parse_config(text, PULSE_PACKAGED_CONFIG);
  ASSERT_TRUE(r.ok()) << r.error().text;
  EXPECT_EQ(r->tcp_listeners, (std::vector<Listener>{{"default", "127.0.0.1", 5672}}));
  // The packaged broker is a Pulse service: the guardian runs (a bare pulsed keeps it off).
  EXPECT_TRUE(r->guardian.enabled);
}

TEST(PackagedConfig, CommentedExamplesAreTheDefaults) {
  // Uncomment every `# key = value` line; prose comments do not have that shape.
  std::regex example(R"(^# ([a-z_][a-z0-9_.]*) = (\S+)$)");
  std::istringstream in(packaged_config());
  std::string uncommented;
  int examples = 0;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, example)) {
      uncommented += m[1].str() + " = " + m[2].str() + "\n";
      ++examples;
    } else {
      uncommented += line + "\n";
    }
  }
  EXPECT_GE(examples, 15);
  auto r = parse_config(uncommented, "pulse.conf with every example uncommented");
  ASSERT_TRUE(r.ok()) << r.error().text;
  const Config defaults;
  const Config& c = *r;
  // The one uncommented setting: IPv4 loopback, written out so admins see where pulsed listens.
  EXPECT_EQ(c.tcp_listeners, (std::vector<Listener>{{"default", "127.0.0.1", 5672}}));
  EXPECT_EQ(c.default_vhost, defaults.default_vhost);
  EXPECT_EQ(c.default_user, defaults.default_user);
  EXPECT_EQ(c.default_pass, defaults.default_pass);
  EXPECT_EQ(c.default_permissions_configure, defaults.default_permissions_configure);
  EXPECT_EQ(c.default_permissions_write, defaults.default_permissions_write);
  EXPECT_EQ(c.default_permissions_read, defaults.default_permissions_read);
  EXPECT_EQ(c.default_user_tags, defaults.default_user_tags);
  EXPECT_EQ(c.loopback_users, defaults.loopback_users);
  EXPECT_EQ(c.heartbeat, defaults.heartbeat);
  EXPECT_EQ(c.frame_max, defaults.frame_max);
  EXPECT_EQ(c.channel_max, defaults.channel_max);
  EXPECT_EQ(c.max_message_size, defaults.max_message_size);
  EXPECT_EQ(c.handshake_timeout_ms, defaults.handshake_timeout_ms);
  EXPECT_EQ(c.consumer_timeout_ms, defaults.consumer_timeout_ms);
  EXPECT_EQ(c.management_tcp_timeouts, defaults.management_tcp_timeouts);
  EXPECT_EQ(c.connection_max, defaults.connection_max);
  EXPECT_EQ(c.memory_high_watermark_relative, defaults.memory_high_watermark_relative);
  EXPECT_EQ(c.memory_high_watermark_absolute, defaults.memory_high_watermark_absolute);
  EXPECT_EQ(c.memory_high_watermark_paging_ratio, defaults.memory_high_watermark_paging_ratio);
  EXPECT_EQ(c.disk_free_limit_absolute.value_or(kDefaultDiskFreeLimit), kDefaultDiskFreeLimit);
  EXPECT_EQ(c.paging_queue_memory_limit, defaults.paging_queue_memory_limit);
  EXPECT_EQ(c.log_console_level, defaults.log_console_level);
  EXPECT_EQ(c.pulse_namespaces_strict, defaults.pulse_namespaces_strict);
  EXPECT_TRUE(c.load_definitions.empty());
  const guardian::GuardianSettings guardian_defaults;
  EXPECT_EQ(c.guardian.interval, guardian_defaults.interval);
  EXPECT_EQ(c.guardian.thresholds, guardian_defaults.thresholds);
  EXPECT_EQ(c.guardian.idle_queue_expiry, guardian_defaults.idle_queue_expiry);
  EXPECT_EQ(c.guardian.max_connection_age, guardian_defaults.max_connection_age);
}

}  // namespace
}  // namespace pulse::app
