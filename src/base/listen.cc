#include "base/listen.h"

namespace pulse {
namespace asio = boost::asio;

Result<std::unique_ptr<asio::ip::tcp::acceptor>> open_acceptor(asio::io_context& io,
                                                               const std::string& host,
                                                               uint16_t port, const char* what) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(unbracket(host), ec);
  if (ec)
    return Error{
        0, std::string("invalid ") + what + " listen address '" + host + "': " + ec.message()};
  asio::ip::tcp::endpoint ep(addr, port);
  auto acceptor = std::make_unique<asio::ip::tcp::acceptor>(io);
  acceptor->open(ep.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(ep, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Error{0, std::string("cannot listen (") + what + ") on " + format_host_port(host, port) +
                        ": " + ec.message()};
  }
  return acceptor;
}

Status ipv6_loopback_available() {
  asio::io_context io;
  asio::ip::tcp::acceptor probe(io);
  boost::system::error_code ec;
  probe.open(asio::ip::tcp::v6(), ec);
  if (!ec) probe.bind({asio::ip::address_v6::loopback(), 0}, ec);
  if (ec) return Error{0, ec.message()};
  return ok_status();
}

}  // namespace pulse
