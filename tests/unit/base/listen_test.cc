#include "base/listen.h"

#include <gtest/gtest.h>

namespace pulse {
namespace {

TEST(OpenAcceptor, BusyAddressNamesAddressAndReason) {
  boost::asio::io_context io;
  auto first = open_acceptor(io, "127.0.0.1", 0, "AMQP");
  ASSERT_TRUE(first.ok()) << first.error().text;
  uint16_t port = (*first)->local_endpoint().port();
  auto second = open_acceptor(io, "127.0.0.1", port, "AMQP");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().text, "cannot listen (AMQP) on 127.0.0.1:" + std::to_string(port) +
                                     ": Address already in use");
}

TEST(OpenAcceptor, InvalidAddress) {
  boost::asio::io_context io;
  auto r = open_acceptor(io, "localhost", 1, "HTTP");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().text.find("invalid HTTP listen address 'localhost'"), std::string::npos);
}

TEST(OpenAcceptor, BracketedIpv6Loopback) {
  if (!ipv6_loopback_available()) GTEST_SKIP() << "no IPv6 loopback on this machine";
  boost::asio::io_context io;
  auto first = open_acceptor(io, "[::1]", 0, "AMQP");
  ASSERT_TRUE(first.ok()) << first.error().text;
  EXPECT_TRUE((*first)->local_endpoint().address().is_v6());
  uint16_t port = (*first)->local_endpoint().port();
  auto second = open_acceptor(io, "::1", port, "AMQP");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().text,
            "cannot listen (AMQP) on [::1]:" + std::to_string(port) + ": Address already in use");
}

}  // namespace
}  // namespace pulse
