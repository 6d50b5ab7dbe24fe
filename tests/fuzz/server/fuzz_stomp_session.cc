// The STOMP server (StompConnection, Session, its mapping onto the broker) fed arbitrary bytes
// after a valid CONNECT. One in-process StompServer on 127.0.0.1 (ephemeral port) is pumped by
// this thread; each input is one TCP connection (loopback.h).
//
// Input: byte 0 picks options (below), the rest is the stream sent after the CONNECT.
// Besides "no crash, no sanitizer report": every session must be gone from the server once its
// client is, and every 128 inputs (from the first) a fresh session must still get CONNECTED.
#include <cstdint>
#include <memory>
#include <string>

#include "server/session_world.h"
#include "stomp_server/stomp_server.h"

using namespace pulse;

namespace {

struct World : fuzz::SessionWorld {
  std::unique_ptr<stomp_server::StompServer> server;

  World() {
    stomp_server::StompOptions o;
    o.login_timeout_ms = 2000;  // bounds Loopback::settle's wait on a session without CONNECT
    server = std::make_unique<stomp_server::StompServer>(io, broker, auth, failures, o);
    auto bound = server->listen("127.0.0.1", 0);
    fuzz::check(bound.ok(), "listen");
    client = std::make_unique<fuzz::Loopback>(io, bound->port(),
                                              [this] { return server->sessions().size(); });
  }
};

World& world() {
  static World* w = new World;  // never destroyed: reachable for LeakSanitizer
  return *w;
}

// Options byte: bits 0-1 the version CONNECT accepts (1.0 without accept-version, 1.1, 1.2,
// all), 2-3 how the stream is cut into writes, 4 STOMP instead of CONNECT, 5 heart-beats asked
// (the server's send timer runs), 6 no CONNECT at all (the stream must bring its own).
std::string connect_frame(uint8_t opts) {
  if (opts & 0x40) return {};
  static constexpr const char* kVersions[] = {nullptr, "1.1", "1.2", "1.0,1.1,1.2"};
  std::string f = (opts & 0x10) ? "STOMP\n" : "CONNECT\n";
  if (const char* v = kVersions[opts & 3]) f += std::string("accept-version:") + v + "\n";
  f += "host:/\nlogin:guest\npasscode:guest\n";
  if (opts & 0x20) f += "heart-beat:0,50\n";
  f += "\n";
  f.push_back('\0');
  return f;
}

bool connected(const std::string& got) {
  return got.find("CONNECTED\n") != std::string::npos;
}

void check_health(World& w) {
  auto out = w.client->run({connect_frame(3)}, 0, 4096, connected);
  fuzz::check(connected(out.received), "a fresh session gets CONNECTED");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = world();
  const fuzz::Input in = fuzz::split_input(data, size);
  static constexpr size_t kChunk[] = {0, 0, 5, 64};
  w.client->run({connect_frame(in.opts), in.stream}, kChunk[(in.opts >> 2) & 3]);
  w.after_input([&w] { check_health(w); });
  return 0;
}
