// Web-STOMP (Beast's WebSocket under WsConnection, then the STOMP session) fed arbitrary bytes
// as WebSocket frames after a valid HTTP upgrade. One in-process WebStompServer listener on
// 127.0.0.1 (ephemeral port), with the StompServer its sessions join, is pumped by this thread;
// each input is one TCP connection (loopback.h).
//
// Input: byte 0 picks options (below), the rest is the frame stream sent after the upgrade
// request (and a masked CONNECT text frame when asked). Besides "no crash, no sanitizer
// report": every session must be gone from the server once its client is, and every 128 inputs
// a fresh WebSocket must still get its 101 and CONNECTED.
#include <cstdint>
#include <memory>
#include <string>

#include "server/session_world.h"
#include "server/ws_frame.h"
#include "stomp_server/stomp_server.h"
#include "web_stomp/web_stomp_server.h"

using namespace pulse;

namespace {

struct World : fuzz::SessionWorld {
  std::unique_ptr<stomp_server::StompServer> stomp;
  std::unique_ptr<web_stomp::WebStompServer> web;

  World() {
    stomp_server::StompOptions so;
    so.login_timeout_ms = 2000;  // bounds Loopback::settle's wait on a session without CONNECT
    stomp = std::make_unique<stomp_server::StompServer>(io, broker, auth, failures, so);
    web_stomp::WebStompOptions wo;
    wo.max_message_size = 64 * 1024;  // reachable by an input: the 1009 close is covered too
    wo.handshake_timeout = std::chrono::milliseconds(2000);
    wo.request_timeout = std::chrono::milliseconds(2000);  // an upgrade request never finished
    web = std::make_unique<web_stomp::WebStompServer>(io, *stomp, wo, so);
    auto bound = web->listen("127.0.0.1", 0);
    fuzz::check(bound.ok(), "listen");
    client = std::make_unique<fuzz::Loopback>(io, bound->port(),
                                              [this] { return stomp->sessions().size(); });
    // Frames only once the 101 (or a refusal) came, as RFC 6455 4.1 has a client wait
    // (test_web_stomp.py has a client that does not).
    client->set_gate([](const std::string& got) { return got.find("\r\n\r\n") != got.npos; });
  }
};

World& world() {
  static World* w = new World;  // never destroyed: reachable for LeakSanitizer
  return *w;
}

const std::string kConnect =
    std::string("CONNECT\naccept-version:1.0,1.1,1.2\nhost:/\nlogin:guest\npasscode:guest\n\n") +
    '\0';

// Options byte: bit 0 permessage-deflate offered, 1 a CONNECT text frame before the stream,
// 2-3 how the stream is cut into writes, 4-5 the sub-protocols offered.
std::string upgrade(uint8_t opts) {
  static constexpr const char* kProtocols[] = {"v12.stomp, v11.stomp, v10.stomp", "v10.stomp", "",
                                               "stomp, mqtt"};
  return fuzz::ws_upgrade(kProtocols[(opts >> 4) & 3], opts & 1);
}
std::string frames(uint8_t opts, std::string_view stream) {
  std::string s = (opts & 2) ? fuzz::ws_frame(fuzz::kWsText, kConnect) : std::string();
  s.append(stream);
  return s;
}

bool connected(const std::string& got) {
  return got.compare(0, 12, "HTTP/1.1 101") == 0 && got.find("CONNECTED\n") != std::string::npos;
}

void check_health(World& w) {
  auto out = w.client->run({upgrade(2), frames(2, {})}, 0, 4096, connected);
  fuzz::check(connected(out.received), "a fresh WebSocket gets 101 and CONNECTED");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = world();
  const fuzz::Input in = fuzz::split_input(data, size);
  static constexpr size_t kChunk[] = {0, 0, 3, 50};
  w.client->run({upgrade(in.opts), frames(in.opts, in.stream)}, kChunk[(in.opts >> 2) & 3]);
  w.after_input([&w] { check_health(w); });
  return 0;
}
