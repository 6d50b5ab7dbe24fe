#pragma once
// A protocol that takes over an HTTP connection after one request (Web-STOMP's `/ws`): the
// HTTP listener hands it the stream, the request read so far and any bytes read past it, and
// forgets the connection. Beast types, so only Beast translation units include this.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <memory>
#include <string>

namespace pulse::httpd {

using PlainStream = boost::beast::tcp_stream;
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;
using UpgradeRequest = boost::beast::http::request<boost::beast::http::string_body>;

class UpgradeHandler {
 public:
  virtual ~UpgradeHandler() = default;
  // Requests whose path is exactly this go to the handler (upgrade or not: it answers them).
  virtual const std::string& path() const = 0;
  virtual void upgrade(PlainStream stream, UpgradeRequest request,
                       boost::beast::flat_buffer buffer) = 0;
  // `context` is what `stream` was made with; the handler keeps it alive.
  virtual void upgrade(TlsStream stream, std::shared_ptr<boost::asio::ssl::context> context,
                       UpgradeRequest request, boost::beast::flat_buffer buffer) = 0;
};

}  // namespace pulse::httpd
