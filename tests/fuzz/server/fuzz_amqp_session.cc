// The whole AMQP connection (AmqpConnection, its channels, the broker behind them) fed arbitrary
// frames after a valid handshake. One in-process Server on 127.0.0.1 (ephemeral port) is pumped
// by this thread; each input is one TCP connection (loopback.h).
//
// Input: byte 0 picks options (below), the rest is the stream sent after protocol header,
// start-ok (PLAIN guest/guest), tune-ok and connection.open "/" (and channel.open 1 when asked).
// Besides "no crash, no sanitizer report": every connection must be gone from the server once
// its client is, and every 128 inputs (from the first) a fresh connection must still complete the
// handshake.
#include <cstdint>
#include <memory>
#include <string>

#include "amqp/frame.h"
#include "amqp/generated/methods.h"
#include "server/server.h"
#include "server/session_world.h"

using namespace pulse;

namespace {

struct World : fuzz::SessionWorld {
  std::unique_ptr<server::Server> server;

  World() {
    server::ServerOptions o;
    o.heartbeat = 0;                // no timers beyond what an input asks for
    o.handshake_timeout_ms = 2000;  // bounds Loopback::settle's wait on a stuck handshake
    o.max_message_size = 1 << 20;
    server = std::make_unique<server::Server>(io, broker, auth, o);
    auto bound = server->listen("127.0.0.1", 0);
    fuzz::check(bound.ok(), "listen");
    client = std::make_unique<fuzz::Loopback>(io, bound->port(),
                                              [this] { return server->connection_count(); });
  }
};

// Never destroyed: the server lives as long as the fuzzing process (LeakSanitizer sees it
// reachable).
World& world() {
  static World* w = new World;
  return *w;
}

// Options byte: bits 0-1 frame_max, 2-3 how the stream is cut into writes, 4 channel.open 1 in
// the handshake, 5 client capabilities (confirms, cancel notify...), 6 channel_max 3.
std::string handshake(uint8_t opts) {
  static constexpr uint32_t kFrameMax[] = {131072, 4096, 0, 8192};
  std::string s("AMQP\x00\x00\x09\x01", 8);
  amqp::ConnectionStartOk start_ok;
  if (opts & 0x20) {
    start_ok.client_properties = {
        {"product", amqp::FieldValue("fuzz")},
        {"capabilities", amqp::FieldValue(amqp::FieldTable{
                             {"publisher_confirms", amqp::FieldValue(true)},
                             {"consumer_cancel_notify", amqp::FieldValue(true)},
                             {"basic.nack", amqp::FieldValue(true)},
                             {"connection.blocked", amqp::FieldValue(true)},
                             {"exchange_exchange_bindings", amqp::FieldValue(true)}})}};
  }
  start_ok.mechanism = "PLAIN";
  start_ok.response = std::string("\0guest\0guest", 12);
  start_ok.locale = "en_US";
  amqp::append_method_frame(s, 0, start_ok);
  amqp::ConnectionTuneOk tune_ok;
  tune_ok.channel_max = (opts & 0x40) ? 3 : 2047;
  tune_ok.frame_max = kFrameMax[opts & 3];
  amqp::append_method_frame(s, 0, tune_ok);
  amqp::ConnectionOpen open;
  open.virtual_host = "/";
  amqp::append_method_frame(s, 0, open);
  if (opts & 0x10) amqp::append_method_frame(s, 1, amqp::ChannelOpen{});
  return s;
}

// connection.open-ok (class 10, method 41) among the frames received.
bool has_open_ok(const std::string& got) {
  auto bytes = fuzz::as_span(got);
  size_t at = 0;
  if (got.size() >= 8 && got.compare(0, 4, "AMQP") == 0) return false;  // version refused
  while (at < bytes.size()) {
    auto d = amqp::decode_frame(bytes.subspan(at), 0);
    if (d.status != amqp::DecodeStatus::kFrame) return false;
    const auto& f = d.frame;
    if (f.type == amqp::kFrameMethod && f.payload.size() >= 4 && f.payload[0] == 0 &&
        f.payload[1] == 10 && f.payload[2] == 0 && f.payload[3] == 41)
      return true;
    at += d.consumed;
  }
  return false;
}

void check_health(World& w) {
  auto out = w.client->run({handshake(0)}, 0, 4096, has_open_ok);
  fuzz::check(has_open_ok(out.received), "a fresh connection completes the handshake");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = world();
  const fuzz::Input in = fuzz::split_input(data, size);
  static constexpr size_t kChunk[] = {0, 0, 7, 100};
  w.client->run({handshake(in.opts), in.stream}, kChunk[(in.opts >> 2) & 3]);
  w.after_input([&w] { check_health(w); });
  return 0;
}
