// Writes the seed corpora of the server session fuzzers: make_session_seeds OUT_DIR creates
// OUT_DIR/{amqp_session,stomp_session,websocket}. Each seed is the target's options byte, then
// the stream a real client sends after the handshake the target makes itself. The committed
// tests/fuzz/corpus/{amqp_session,stomp_session,websocket} were produced by this tool.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "amqp/frame.h"
#include "server/ws_frame.h"

using namespace pulse;
using namespace pulse::amqp;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& dir, const std::string& name, uint8_t opts, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << static_cast<char>(opts) << bytes;
}

// AMQP: a stream of frames on channel `ch`.
struct Amqp {
  std::string s;
  uint16_t ch = 1;
  uint32_t frame_max = 131072;
  template <typename M>
  Amqp& m(const M& method) {
    append_method_frame(s, ch, method);
    return *this;
  }
  Amqp& publish(const std::string& exchange, const std::string& key, const std::string& body,
                BasicProperties p = {}, bool mandatory = false) {
    BasicPublish pub;
    pub.exchange = exchange;
    pub.routing_key = key;
    pub.mandatory = mandatory;
    m(pub);
    append_content(s, ch, p, body, frame_max);
    return *this;
  }
};

QueueDeclare queue(const std::string& name, FieldTable args = {}, bool exclusive = true) {
  QueueDeclare q;
  q.queue = name;
  q.exclusive = exclusive;
  q.auto_delete = !exclusive;
  q.arguments = std::move(args);
  return q;
}
QueueBind bind(const std::string& q, const std::string& x, const std::string& key,
               FieldTable args = {}) {
  QueueBind b;
  b.queue = q;
  b.exchange = x;
  b.routing_key = key;
  b.arguments = std::move(args);
  return b;
}
ExchangeDeclare exchange(const std::string& name, const std::string& type) {
  ExchangeDeclare x;
  x.exchange = name;
  x.type = type;
  x.auto_delete = true;
  return x;
}
BasicConsume consume(const std::string& q, const std::string& tag, bool no_ack = false) {
  BasicConsume c;
  c.queue = q;
  c.consumer_tag = tag;
  c.no_ack = no_ack;
  return c;
}
BasicAck ack(uint64_t tag, bool multiple = false) {
  BasicAck a;
  a.delivery_tag = tag;
  a.multiple = multiple;
  return a;
}
BasicNack nack(uint64_t tag, bool multiple, bool requeue) {
  BasicNack n;
  n.delivery_tag = tag;
  n.multiple = multiple;
  n.requeue = requeue;
  return n;
}
BasicQos qos(uint16_t count, bool global = false) {
  BasicQos q;
  q.prefetch_count = count;
  q.global = global;
  return q;
}
BasicGet get(const std::string& q, bool no_ack = false) {
  BasicGet g;
  g.queue = q;
  g.no_ack = no_ack;
  return g;
}

void amqp_seeds(const fs::path& dir) {
  const uint8_t kOpen = 0x10, kCaps = 0x20;  // fuzz_amqp_session's options
  {
    Amqp a;
    a.m(exchange("fz.x", "topic")).m(queue("fz.q")).m(bind("fz.q", "fz.x", "a.*"));
    a.publish("fz.x", "a.b", "hello").publish("", "fz.q", std::string(300, 'x'));
    a.m(get("fz.q")).m(ack(1)).m(get("fz.q", true)).m(get("fz.q"));
    write(dir, "declare_bind_publish_get", kOpen, a.s);
  }
  {
    Amqp a;
    a.m(queue("fz.c")).m(qos(2));
    for (int i = 0; i < 4; ++i) a.publish("", "fz.c", "m" + std::to_string(i));
    a.m(consume("fz.c", "ct")).m(ack(1)).m(nack(2, false, true));
    BasicReject rj;
    rj.delivery_tag = 3;
    a.m(rj).m(ack(5, true));
    BasicCancel cancel;
    cancel.consumer_tag = "ct";
    a.m(cancel);
    write(dir, "consume_ack_nack_reject", kOpen | kCaps, a.s);
  }
  {
    Amqp a;
    a.m(ConfirmSelect{}).m(queue("fz.cf"));
    BasicProperties p;
    p.set_delivery_mode(2);
    p.set_message_id("m1");
    a.publish("", "fz.cf", "persistent", p).publish("", "nowhere", "unroutable", {}, true);
    a.publish("amq.direct", "none", "x", {}, true);
    write(dir, "confirm_mandatory", kOpen | kCaps, a.s);
  }
  {
    Amqp a;
    a.m(TxSelect{}).m(queue("fz.tx")).publish("", "fz.tx", "t1").m(TxCommit{});
    a.m(get("fz.tx")).m(ack(1)).m(TxRollback{}).m(get("fz.tx")).m(ack(2)).m(TxCommit{});
    write(dir, "tx", kOpen, a.s);
  }
  {
    // Channel errors, then the close handshake.
    Amqp a;
    QueueDeclare passive = queue("fz.missing");
    passive.passive = true;
    a.m(passive);
    a.m(ChannelCloseOk{});
    a.ch = 2;
    a.m(ChannelOpen{})
        .m(queue("fz.q2"))
        .m(queue("fz.q2", {{"x-max-length", FieldValue(int32_t{1})}}));
    a.ch = 3;
    a.m(ChannelOpen{}).m(ChannelOpen{});
    a.ch = 0;
    ConnectionClose close;
    close.reply_code = 200;
    close.reply_text = "bye";
    a.m(close);
    write(dir, "errors_close", kOpen, a.s);
  }
  {
    Amqp a;
    a.frame_max = 4096;
    a.m(queue("fz.big")).publish("", "fz.big", std::string(6000, 'b'));
    append_heartbeat(a.s);
    a.m(consume("fz.big", "", true));
    write(dir, "large_body_small_frames", kOpen | 0x01, a.s);
  }
  {
    Amqp a;
    FieldTable args{{"x-message-ttl", FieldValue(int32_t{0})},
                    {"x-dead-letter-exchange", FieldValue("fz.dlx")},
                    {"x-dead-letter-routing-key", FieldValue("dead")},
                    {"x-max-length", FieldValue(int32_t{2})},
                    {"x-overflow", FieldValue("reject-publish")},
                    {"x-expires", FieldValue(int32_t{1000})},
                    {"x-max-priority", FieldValue(int8_t{5})},
                    {"x-queue-mode", FieldValue("lazy")}};
    a.m(exchange("fz.dlx", "fanout")).m(queue("fz.dead")).m(bind("fz.dead", "fz.dlx", ""));
    a.m(queue("fz.ttl", args)).publish("", "fz.ttl", "expire me").m(get("fz.dead", true));
    QueuePurge purge;
    purge.queue = "fz.dead";
    a.m(purge);
    QueueDelete del;
    del.queue = "fz.ttl";
    a.m(del);
    write(dir, "queue_arguments_dead_letter", kOpen, a.s);
  }
  {
    Amqp a;
    a.m(exchange("fz.h", "headers")).m(exchange("fz.f", "fanout"));
    ExchangeBind eb;
    eb.destination = "fz.f";
    eb.source = "fz.h";
    eb.arguments = {{"x-match", FieldValue("any")}, {"k", FieldValue("v")}};
    a.m(eb).m(queue("fz.hq")).m(bind("fz.hq", "fz.f", ""));
    BasicProperties p;
    p.set_headers({{"k", FieldValue("v")}});
    a.publish("fz.h", "", "routed", p).m(get("fz.hq", true));
    ExchangeUnbind eu;
    eu.destination = "fz.f";
    eu.source = "fz.h";
    a.m(eu);
    QueueUnbind qu;
    qu.queue = "fz.hq";
    qu.exchange = "fz.f";
    a.m(qu);
    ExchangeDelete xd;
    xd.exchange = "fz.h";
    a.m(xd);
    write(dir, "headers_exchange_bindings", kOpen, a.s);
  }
  {
    Amqp a;
    a.m(queue("fz.r")).publish("", "fz.r", "a").publish("", "fz.r", "b").m(qos(1, true));
    BasicRecover recover;
    recover.requeue = true;
    a.m(consume("fz.r", "c1")).m(recover);
    BasicRecoverAsync ra;
    ra.requeue = true;
    a.m(ra);
    ChannelFlow flow;
    flow.active = false;
    a.m(flow);
    flow.active = true;
    a.m(flow).m(ack(0, true));
    write(dir, "recover_flow", kOpen, a.s);
  }
  {
    // Direct reply-to, and a channel opened by the stream itself.
    Amqp a;
    a.m(ChannelOpen{}).m(consume("amq.rabbitmq.reply-to", "", true));
    BasicProperties p;
    p.set_reply_to("amq.rabbitmq.reply-to");
    a.m(queue("fz.rpc")).publish("", "fz.rpc", "request", p).m(get("fz.rpc", true));
    write(dir, "direct_reply_to", kCaps, a.s);
  }
}

std::string stomp(const std::string& command, const std::vector<std::string>& headers,
                  const std::string& body = "") {
  std::string f = command + "\n";
  for (const auto& h : headers) f += h + "\n";
  return f + "\n" + body + '\0';
}

std::vector<std::pair<std::string, std::string>> stomp_sessions() {
  return {
      {"send_subscribe_ack",
       stomp("SUBSCRIBE", {"destination:/queue/fz", "id:s1", "ack:client"}) +
           stomp("SEND", {"destination:/queue/fz", "content-type:text/plain", "receipt:r1"},
                 "hello") +
           stomp("SEND", {"destination:/queue/fz", "content-length:3"}, std::string("a\0b", 3)) +
           stomp("ACK", {"message-id:T_s1@@session@@1", "id:1", "subscription:s1"}) +
           stomp("UNSUBSCRIBE", {"id:s1"}) + stomp("DISCONNECT", {"receipt:bye"})},
      {"nack_individual",
       stomp("SUBSCRIBE",
             {"destination:/queue/fz.n", "id:s2", "ack:client-individual", "prefetch-count:1"}) +
           stomp("SEND", {"destination:/queue/fz.n"}, "one") +
           stomp("SEND", {"destination:/queue/fz.n"}, "two") + stomp("NACK", {"id:1"}) +
           stomp("NACK", {"id:2", "requeue:false"}) + stomp("ACK", {"id:3"})},
      {"transaction", stomp("BEGIN", {"transaction:t1"}) +
                          stomp("SEND", {"destination:/queue/fz.t", "transaction:t1"}, "in tx") +
                          stomp("COMMIT", {"transaction:t1"}) + stomp("BEGIN", {"transaction:t2"}) +
                          stomp("SEND", {"destination:/queue/fz.t", "transaction:t2"}, "dropped") +
                          stomp("ABORT", {"transaction:t2"}) +
                          stomp("COMMIT", {"transaction:nope"})},
      {"topics_exchanges",
       stomp("SUBSCRIBE", {"destination:/topic/a.*", "id:t"}) +
           stomp("SUBSCRIBE", {"destination:/exchange/amq.fanout", "id:f"}) +
           stomp("SEND", {"destination:/topic/a.b", "persistent:true", "priority:3"}, "x") +
           stomp("SEND", {"destination:/exchange/amq.fanout/k", "reply-to:/temp-queue/r"}, "y") +
           stomp("SEND", {"destination:/amq/queue/fz.missing"}, "z")},
      {"queue_arguments",
       stomp("SUBSCRIBE",
             {"destination:/queue/fz.args", "id:a", "durable:false", "auto-delete:true",
              "x-max-length:1", "x-message-ttl:100", "x-queue-type:classic"}) +
           stomp("SEND", {"destination:/queue/fz.args", "expiration:0", "custom:v\\c\\n"}, "x")},
      {"errors", stomp("SEND", {}) + stomp("SUBSCRIBE", {"destination:/bogus/x"}) +
                     stomp("FOO", {}) + stomp("ACK", {}) +
                     stomp("CONNECT", {"login:guest", "passcode:guest"}) + "\n\n" +
                     stomp("UNSUBSCRIBE", {"id:none"})},
  };
}

void stomp_seeds(const fs::path& dir) {
  // fuzz_stomp_session's options: bits 0-1 version (0: 1.0, 1: 1.1, 2: 1.2, 3: all).
  uint8_t version = 0;
  for (const auto& [name, s] : stomp_sessions()) {
    write(dir, name, version, s);
    version = (version + 1) & 3;
  }
  write(dir, "heart_beat_stomp_command", 0x10 | 0x20 | 3,
        stomp("SEND", {"destination:/queue/h"}, "b") + "\n\n");
  write(dir, "own_connect", 0x40,
        stomp("CONNECT",
              {"accept-version:1.2", "host:/", "login:guest", "passcode:guest", "heart-beat:0,0"}) +
            stomp("SEND", {"destination:/queue/o"}, "x"));
}

void websocket_seeds(const fs::path& dir) {
  using namespace pulse::fuzz;
  const uint8_t kConnect = 0x02;  // fuzz_websocket's options: the CONNECT frame is sent first
  const auto sessions = stomp_sessions();
  const std::string session = sessions[0].second;
  write(dir, "text_frames", kConnect, ws_frame(kWsText, session));
  write(dir, "binary_frames", kConnect, ws_frame(kWsBinary, sessions[2].second));
  // One STOMP frame across three WebSocket frames, with control frames between them.
  const std::string& s = sessions[1].second;
  const size_t third = s.size() / 3;
  write(dir, "fragmented_with_control", kConnect,
        ws_frame(kWsText, s.substr(0, third), false) + ws_frame(kWsPing, "p") +
            ws_frame(kWsContinuation, s.substr(third, third), false) + ws_frame(kWsPong, "") +
            ws_frame(kWsContinuation, s.substr(2 * third)) +
            ws_frame(kWsClose, std::string("\x03\xe8", 2) + "bye"));
  // CONNECT inside the stream, with a masking key, compressed extension offered.
  std::string connect =
      stomp("CONNECT", {"accept-version:1.1", "host:/", "login:guest", "passcode:guest"});
  write(dir, "own_connect_masked", 0x01, ws_frame(kWsText, connect, true, 0x37fa213d));
  write(dir, "unmasked", kConnect, ws_frame(kWsText, session, true, 0, false));
  // A length beyond what is sent and beyond the message limit.
  std::string oversize = ws_frame(kWsText, "SEND\n\n");
  oversize[1] = static_cast<char>(0x80 | 127);
  oversize.insert(2, std::string("\x00\x00\x00\x00\x00\x10\x00\x00", 8));
  write(dir, "oversize_length", kConnect, oversize);
  write(dir, "many_small_messages", kConnect | 0x08,
        ws_frame(kWsText, "SEND\ndestination:/queue/ws\n\nx") +
            ws_frame(kWsText, std::string(1, '\0')) + ws_frame(kWsText, "\n") +
            ws_frame(kWsText, sessions[3].second));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_session_seeds OUT_DIR\n");
    return 2;
  }
  const fs::path out = argv[1];
  amqp_seeds(out / "amqp_session");
  stomp_seeds(out / "stomp_session");
  websocket_seeds(out / "websocket");
  return 0;
}
