#include "base/listen.h"

namespace pulse {

Result<std::unique_ptr<boost::asio::ip::tcp::acceptor>> open_acceptor(boost::asio::io_context& io,
                                                                      const std::string& host,
                                                                      uint16_t port,
                                                                      const char* what) {
  namespace asio = boost::asio;
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
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
    return Error{0, std::string("cannot listen (") + what + ") on " + host + ":" +
                        std::to_string(port) + ": " + ec.message()};
  }
  return acceptor;
}

}  // namespace pulse
