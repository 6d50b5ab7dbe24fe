#pragma once
// A real pulsed for the Publisher and Consumer tests: started on free ports with a temporary
// data directory, killed with SIGKILL and restarted on the same ports, its connections
// force-closed through the management API. One per test (ctest runs each test in a process).
//
// With $PULSE_CLIENT_TEST_URI (e.g. a RabbitMQ node) and $PULSE_CLIENT_TEST_HTTP_PORT (its
// management API, guest/guest) the tests use that broker instead, each in a fresh vhost; the
// tests that kill, restart or configure the broker skip themselves then (external()).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "../client/free_ports.h"
#include "client/channel.h"
#include "client/connection.h"
#include "pulse/recovery.h"

namespace pulse::testing {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

using client::testing::bind_loopback;
using client::testing::free_ports;

// Polls `cond` until it holds or `limit` passes (generous limits: the machine is shared).
inline bool eventually(const std::function<bool()>& cond,
                       milliseconds limit = milliseconds(20000)) {
  const auto deadline = Clock::now() + limit;
  while (!cond()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return true;
}

class Broker {
 public:
  Broker() {
    static int n = 0;
    const std::string id = std::to_string(::getpid()) + "-" + std::to_string(++n);
    const char* uri = std::getenv("PULSE_CLIENT_TEST_URI");
    const char* http = std::getenv("PULSE_CLIENT_TEST_HTTP_PORT");
    if (uri && *uri && http && *http) {
      auto o = client::parse_uri(uri);
      EXPECT_TRUE(o.ok()) << uri;
      if (o) external_ = *o;
      external_->vhost = "pulse-recovery-" + id;
      amqp_port_ = external_->port;
      http_port_ = static_cast<uint16_t>(std::atoi(http));
      return;
    }
    dir_ = std::filesystem::temp_directory_path() / ("pulse-recovery-" + id);
    std::filesystem::create_directories(dir_);
    const auto ports = free_ports(5);
    amqp_port_ = ports[0];
    http_port_ = ports[1];
    prometheus_port_ = ports[2];
    stomp_port_ = ports[3];
    web_stomp_port_ = ports[4];
  }
  ~Broker() {
    if (external_) {
      http("DELETE", "/api/vhosts/" + external_->vhost);
      return;
    }
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  // An external broker: it cannot be killed, restarted or configured by the tests.
  bool external() const { return external_.has_value(); }

  // Starts pulsed (again, on the same ports and data) and waits until it accepts logins.
  // `config` is written as its rabbitmq.conf when not empty.
  bool start(const std::string& config = "") {
    if (external_) {
      const std::string v = "/api/vhosts/" + external_->vhost;
      int a = 0, b = 0;
      http("PUT", v, &a);
      http("PUT", "/api/permissions/" + external_->vhost + "/guest", &b,
           R"({"configure": ".*", "write": ".*", "read": ".*"})");
      EXPECT_TRUE(a / 100 == 2 && b / 100 == 2) << a << " " << b;
      return config.empty() && eventually([&] { return client::Connection::open(options()).ok(); });
    }
    const std::string data = (dir_ / "data").string(), log = (dir_ / "pulsed.log").string();
    const std::string conf = (dir_ / "pulsed.conf").string();
    if (!config.empty()) std::ofstream(conf) << config;
    const std::string amqp = "127.0.0.1:" + std::to_string(amqp_port_);
    const std::string http = "127.0.0.1:" + std::to_string(http_port_);
    const std::string prom = "127.0.0.1:" + std::to_string(prometheus_port_);
    const std::string stomp = "127.0.0.1:" + std::to_string(stomp_port_);
    const std::string web_stomp = "127.0.0.1:" + std::to_string(web_stomp_port_);
    pid_ = ::fork();
    if (pid_ == 0) {
      FILE* f = std::freopen(log.c_str(), "a", stdout);
      (void)f;
      ::dup2(STDOUT_FILENO, STDERR_FILENO);
      std::vector<const char*> args = {
          PULSED_BIN,        "--data-dir",     data.c_str(),  "--amqp-listen",
          amqp.c_str(),      "--http-listen",  http.c_str(),  "--prometheus-listen",
          prom.c_str(),      "--stomp-listen", stomp.c_str(), "--web-stomp-listen",
          web_stomp.c_str(), "--log-level",    "warning"};
      if (!config.empty()) {
        args.push_back("--config");
        args.push_back(conf.c_str());
      }
      args.push_back(nullptr);
      ::execv(PULSED_BIN, const_cast<char* const*>(args.data()));
      ::_exit(127);
    }
    return eventually([&] {
      auto c = client::Connection::open(options());
      if (!c) return false;
      (void)(*c)->close();
      return true;
    });
  }
  void kill9() { end(SIGKILL); }
  void stop() { end(SIGTERM); }

  client::ConnectionOptions options() const {
    client::ConnectionOptions o = external_.value_or(client::ConnectionOptions{});
    o.port = amqp_port_;
    o.connect_timeout = milliseconds(5000);
    o.rpc_timeout = milliseconds(10000);
    return o;
  }
  // Endpoints for a Publisher or Consumer, with a back-off short enough for tests.
  RecoveryOptions recovery() const {
    RecoveryOptions r;
    r.endpoints = {options()};
    r.backoff.initial = milliseconds(50);
    r.backoff.max = milliseconds(400);
    return r;
  }
  uint16_t amqp_port() const { return amqp_port_; }

  // One HTTP/1.0 request to the management API as guest; returns the response body ("" on a
  // transport error), the status line's code in *status.
  std::string http(const std::string& method, const std::string& path, int* status = nullptr,
                   const std::string& body = "") {
    const int fd = client::testing::connect_loopback(http_port_);
    std::string response;
    if (fd >= 0) {
      const std::string req =
          method + " " + path +
          " HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Basic Z3Vlc3Q6Z3Vlc3Q=\r\n"
          "X-Reason: test\r\nContent-Type: application/json\r\nContent-Length: " +
          std::to_string(body.size()) + "\r\n\r\n" + body;
      (void)!::write(fd, req.data(), req.size());
      char buf[4096];
      for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) response.append(buf, size_t(n));
      ::close(fd);
    }
    if (status) *status = response.size() > 12 ? std::atoi(response.c_str() + 9) : 0;
    const size_t start = response.find("\r\n\r\n");
    return start == std::string::npos ? std::string() : response.substr(start + 4);
  }
  // The open AMQP connections (of the test's vhost on an external broker).
  nlohmann::json connections() {
    const std::string path =
        external_ ? "/api/vhosts/" + external_->vhost + "/connections" : "/api/connections";
    auto j = nlohmann::json::parse(http("GET", path), nullptr, false);
    return j.is_array() ? j : nlohmann::json::array();
  }
  // Their names (the management API's "name").
  std::vector<std::string> connection_names() {
    std::vector<std::string> names;
    for (const auto& c : connections()) names.push_back(c.value("name", ""));
    return names;
  }
  // DELETE /api/connections/{name}: the broker closes it with 320 CONNECTION_FORCED.
  int force_close(const std::string& name) {
    std::string path = "/api/connections/";
    for (unsigned char ch : name) {
      if (std::isalnum(ch) || ch == '.' || ch == '-' || ch == '_') {
        path += char(ch);
      } else {
        char hex[4];
        std::snprintf(hex, sizeof hex, "%%%02X", ch);
        path += hex;
      }
    }
    int status = 0;
    http("DELETE", path, &status);
    return status;
  }

  // Force-closes the connections whose client-provided name is `name`; returns how many.
  int force_close_provided(const std::string& name) {
    int n = 0;
    for (const auto& c : connections()) {
      if (c.value("user_provided_name", "") == name && force_close(c.value("name", "")) == 204) {
        ++n;
      }
    }
    return n;
  }

 private:
  void end(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  std::optional<client::ConnectionOptions> external_;
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  uint16_t amqp_port_ = 0, http_port_ = 0, prometheus_port_ = 0, stomp_port_ = 0,
           web_stomp_port_ = 0;
};

// Messages in a queue, read back with a plain client (basic.get, acked).
inline std::vector<client::Message> drain(const client::ConnectionOptions& o,
                                          const std::string& queue) {
  std::vector<client::Message> out;
  auto c = client::Connection::open(o);
  if (!c) return out;
  auto ch = (*c)->open_channel();
  if (!ch) return out;
  for (;;) {
    auto m = (*ch)->get(queue);
    if (!m || !*m) break;
    (void)(*ch)->ack((**m).delivery_tag);
    out.push_back(std::move(**m));
  }
  (void)(*c)->close();
  return out;
}

}  // namespace pulse::testing
