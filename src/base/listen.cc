#include "base/listen.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <map>
#include <string>

namespace pulse {
namespace asio = boost::asio;

namespace {

// Every listener runs on the loop thread, so one reserve serves them all.
int g_reserve_fd = -1;

void reserve_descriptor() {
  if (g_reserve_fd < 0) g_reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

struct Episode {
  std::chrono::steady_clock::time_point logged{};
  uint64_t since_log = 0;
};

void log_episode(const char* what, const boost::system::error_code& ec, bool refused) {
  static std::map<std::string, Episode> episodes;
  Episode& e = episodes[what];
  if (refused || ec != asio::error::no_descriptors) ++e.since_log;
  const auto now = std::chrono::steady_clock::now();
  if (e.since_log == 0 || now - e.logged < std::chrono::seconds(10)) return;
  if (ec == asio::error::no_descriptors || ec.value() == ENFILE) {
    spdlog::error("{} listener: out of file descriptors ({}): refused {} connection(s)", what,
                  ec.message(), e.since_log);
  } else {
    spdlog::warn("{} accept failed: {} ({} time(s))", what, ec.message(), e.since_log);
  }
  e.logged = now;
  e.since_log = 0;
}

// Out of memory or buffers, or no reserve to refuse with: accept again a little later rather
// than failing in a loop.
void retry_later(asio::ip::tcp::acceptor& acceptor, std::function<void()> again) {
  auto timer =
      std::make_shared<asio::steady_timer>(acceptor.get_executor(), std::chrono::milliseconds(100));
  timer->async_wait([timer, again = std::move(again)](boost::system::error_code) { again(); });
}

}  // namespace

void accept_failed(asio::ip::tcp::acceptor& acceptor, const boost::system::error_code& ec,
                   const char* what, std::function<void()> again) {
  const bool no_fds = ec == asio::error::no_descriptors || ec.value() == ENFILE;
  if (!no_fds) {
    log_episode(what, ec, false);
    if (ec == asio::error::connection_aborted) return again();
    return retry_later(acceptor, std::move(again));
  }
  if (g_reserve_fd >= 0) {
    ::close(g_reserve_fd);
    g_reserve_fd = -1;
  }
  const int fd = ::accept4(acceptor.native_handle(), nullptr, nullptr, SOCK_CLOEXEC);
  const int accept_errno = errno;
  if (fd >= 0) ::close(fd);
  reserve_descriptor();
  log_episode(what, ec, fd >= 0);
  if (fd >= 0) return again();  // more may be waiting
  if (accept_errno == EAGAIN || accept_errno == EWOULDBLOCK) {
    // Nothing was pending (asio tries accept() before waiting): wait for a connection.
    acceptor.async_wait(asio::ip::tcp::acceptor::wait_read,
                        [again = std::move(again)](boost::system::error_code wait_ec) {
                          if (wait_ec != asio::error::operation_aborted) again();
                        });
    return;
  }
  // No reserve to refuse with: something else took the descriptor.
  retry_later(acceptor, std::move(again));
}

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
  reserve_descriptor();
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
