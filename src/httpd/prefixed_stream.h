#pragma once
// A stream that first yields bytes already read from it, then reads from the next layer: what
// an HTTP parser read past the request that upgraded the connection (a client may send its
// first WebSocket frame in the same segment as the upgrade request) must reach the protocol
// that takes over, and Beast's websocket stream can only be handed a request already parsed,
// not the bytes after it. Writes, teardown and the lowest layer are the next layer's.
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <utility>

namespace pulse::httpd {

template <class Next>
class PrefixedStream {
 public:
  using next_layer_type = Next;
  using executor_type = typename Next::executor_type;

  PrefixedStream(Next next, boost::beast::flat_buffer prefix)
      : next_(std::move(next)), prefix_(std::move(prefix)) {}

  Next& next_layer() { return next_; }
  const Next& next_layer() const { return next_; }
  executor_type get_executor() { return next_.get_executor(); }

  template <class MutableBuffers, class Handler>
  auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    return boost::asio::async_initiate<Handler, void(boost::system::error_code, std::size_t)>(
        [this](auto h, const MutableBuffers& b) {
          if (prefix_.size() == 0) {
            next_.async_read_some(b, std::move(h));
            return;
          }
          // Completes as a read would, never from within the initiating call.
          const std::size_t n = boost::asio::buffer_copy(b, prefix_.data());
          prefix_.consume(n);
          boost::asio::post(
              next_.get_executor(),
              boost::beast::bind_front_handler(std::move(h), boost::system::error_code{}, n));
        },
        handler, buffers);
  }

  template <class ConstBuffers, class Handler>
  auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    return next_.async_write_some(buffers, std::forward<Handler>(handler));
  }

 private:
  Next next_;
  boost::beast::flat_buffer prefix_;
};

// Beast's websocket stream closes its next layer through these (found by ADL).
template <class Next>
void teardown(boost::beast::role_type role, PrefixedStream<Next>& s,
              boost::system::error_code& ec) {
  using boost::beast::websocket::teardown;
  teardown(role, s.next_layer(), ec);
}

template <class Next, class Handler>
void async_teardown(boost::beast::role_type role, PrefixedStream<Next>& s, Handler&& handler) {
  using boost::beast::websocket::async_teardown;
  async_teardown(role, s.next_layer(), std::forward<Handler>(handler));
}

}  // namespace pulse::httpd
