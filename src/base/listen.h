#pragma once
// A listening TCP socket for the AMQP, HTTP and Prometheus listeners: the same address parsing,
// SO_REUSEADDR (restarts must not wait out TIME_WAIT) and error texts for all of them.
#include <functional>
#include <memory>
#include <string>
#include <utility>  // Boost 1.74's asio uses std::exchange without including it (GCC 12)
// clang-format off
#include <boost/asio.hpp>
// clang-format on

#include "base/result.h"
#include "base/url.h"

namespace pulse {

// `host` may be bracketed ("[::1]"). `what` names the listener in errors ("AMQP", "HTTP"):
// "cannot listen (AMQP) on [::1]:5672: Address already in use".
Result<std::unique_ptr<boost::asio::ip::tcp::acceptor>> open_acceptor(boost::asio::io_context& io,
                                                                      const std::string& host,
                                                                      uint16_t port,
                                                                      const char* what);

// An accept loop's answer to a failed accept: `again` (the loop's next accept) runs when
// accepting may succeed. Out of file descriptors (EMFILE, ENFILE) accept() fails whether or not
// a connection waits, and a pending one would stay in the backlog: the descriptor
// open_acceptor() keeps in reserve is given up to accept it and close it (the client is
// refused at once), and the next accept waits until another connection is pending, so the loop
// does not spin. Logged at most once per 10 s per listener, with the number refused since.
void accept_failed(boost::asio::ip::tcp::acceptor& acceptor, const boost::system::error_code& ec,
                   const char* what, std::function<void()> again);

// Whether this machine can bind the IPv6 loopback address (it cannot where IPv6 is disabled);
// the error says why not.
Status ipv6_loopback_available();

}  // namespace pulse
