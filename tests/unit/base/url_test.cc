#include "base/url.h"

#include <gtest/gtest.h>

namespace pulse {
namespace {

std::string parsed(std::string_view text) {
  auto hp = parse_host_port(text);
  return hp ? "host=" + hp->host + " port=" + std::to_string(hp->port) : "(invalid)";
}

TEST(PercentCoding, DecodesWhatItEncodes) {
  EXPECT_EQ(percent_encode("queue/a b"), "queue%2Fa%20b");
  EXPECT_EQ(percent_decode("queue%2Fa%20b", false), "queue/a b");
  EXPECT_EQ(percent_decode("a+b%2b", true), "a b+");
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
  for (const char* bad : {"%", "%4", "%zz", "x%4g"})
    EXPECT_FALSE(percent_decode(bad, false)) << bad;
}

TEST(HostPort, Parses) {
  EXPECT_EQ(parsed("5672"), "host= port=5672");
  EXPECT_EQ(parsed("127.0.0.1:5672"), "host=127.0.0.1 port=5672");
  EXPECT_EQ(parsed("localhost:1"), "host=localhost port=1");
  EXPECT_EQ(parsed("[::1]:5672"), "host=::1 port=5672");
  EXPECT_EQ(parsed("[::]:65535"), "host=:: port=65535");
  EXPECT_EQ(parsed("::1:5672"), "host=::1 port=5672");  // the last colon splits
}

TEST(HostPort, RefusesMalformed) {
  for (std::string_view bad :
       {"", "0", "65536", ":5672", "[::1]5672", "[::1]:", "[::1]", "[]:5672", "host",
        "127.0.0.1:", "127.0.0.1:-1", "127.0.0.1:5672x", "[::1:5672"}) {
    EXPECT_EQ(parsed(bad), "(invalid)") << bad;
  }
}

TEST(IpLiteral, AddressesAreNotNames) {
  for (const char* ip : {"127.0.0.1", "0.0.0.0", "::1", "::", "fe80::1", "::ffff:10.0.0.1"})
    EXPECT_TRUE(is_ip_literal(ip)) << ip;
  for (const char* name : {"", "localhost", "example.com", "[::1]", "127.0.0.1:5672", "1.2.3",
                           "256.0.0.1", "127.0.0.1 "})
    EXPECT_FALSE(is_ip_literal(name)) << name;
}

TEST(HostPort, FormatsIpv6InBrackets) {
  EXPECT_EQ(format_host_port("127.0.0.1", 5672), "127.0.0.1:5672");
  EXPECT_EQ(format_host_port("::1", 5672), "[::1]:5672");
  EXPECT_EQ(format_host_port("[::1]", 5672), "[::1]:5672");
  EXPECT_EQ(parsed(format_host_port("fe80::1", 80)), "host=fe80::1 port=80");
}

}  // namespace
}  // namespace pulse
