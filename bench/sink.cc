// pulse-bench-sink: the cheapest possible AMQP 0-9-1 "broker", to measure how fast pulse-perf
// itself can publish on this machine. It answers the handshake and the synchronous methods
// pulse-perf uses (declare, bind, qos, confirm.select, delete, close) with canned replies,
// confirms publishes in bulk (one multiple ack per read) and throws every message away. It
// parses only frame headers, so one core of it outruns any client. Not a broker: no queues, no
// checks beyond framing.
//
// It is also the latency floor of bench/run.py: once a connection has sent basic.consume, every
// message published on any connection is relayed to that consumer (basic.deliver, then the
// publisher's header and body frames as they came), written by the publisher's own thread at the
// end of the read that completed it. That is the least any broker can do between a publisher
// and a consumer: one wake-up to read, one write. One publisher at a time: frames of two
// publishers' messages could interleave on the consumer's channel.
//
//   pulse-bench-sink [port]     (127.0.0.1; port 0 = any, printed as "listening on PORT")
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

constexpr uint8_t kFrameMethod = 1;
constexpr uint8_t kFrameEnd = 0xCE;
constexpr size_t kReadChunk = 4 << 20;

void put16(std::string& s, uint16_t v) {
  s.push_back(static_cast<char>(v >> 8));
  s.push_back(static_cast<char>(v));
}

void put32(std::string& s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s.push_back(static_cast<char>(v >> (8 * i)));
}

void put64(std::string& s, uint64_t v) {
  for (int i = 7; i >= 0; --i) s.push_back(static_cast<char>(v >> (8 * i)));
}

void shortstr(std::string& s, const std::string& v) {
  s.push_back(static_cast<char>(v.size()));
  s += v;
}

void longstr(std::string& s, const std::string& v) {
  put32(s, static_cast<uint32_t>(v.size()));
  s += v;
}

uint16_t get16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

uint32_t get32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

// Appends one method frame: class, method, then the already encoded arguments.
void method(std::string& out, uint16_t channel, uint16_t cls, uint16_t m,
            const std::string& args = {}) {
  out.push_back(static_cast<char>(kFrameMethod));
  put16(out, channel);
  put32(out, static_cast<uint32_t>(4 + args.size()));
  put16(out, cls);
  put16(out, m);
  out += args;
  out.push_back(static_cast<char>(kFrameEnd));
}

bool write_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

struct ChannelState {
  bool confirming = false;
  uint64_t published = 0;
  uint64_t acked = 0;
  bool relaying = false;  // a publish's content frames are being relayed
};

// A client socket; the consumer's may be written by a publisher's thread too.
struct Conn {
  int fd = -1;
  std::mutex write_mu;
};

struct Consumer {
  std::shared_ptr<Conn> conn;
  uint16_t channel = 0;
  std::string tag;
  uint64_t next_delivery_tag = 1;
  std::string pending;  // deliveries built during the current read of one publisher
};

// The consumer messages are relayed to (the last one to subscribe), guarded by g_consumer_mu.
std::mutex g_consumer_mu;
std::shared_ptr<Consumer> g_consumer;

bool write_locked(Conn& c, const std::string& data) {
  std::lock_guard<std::mutex> lock(c.write_mu);
  return write_all(c.fd, data);
}

std::string read_shortstr(const uint8_t*& p, const uint8_t* end) {
  if (p >= end || end - p < 1 + p[0]) return {};
  std::string v(reinterpret_cast<const char*>(p + 1), p[0]);
  p += 1 + p[0];
  return v;
}

// basic.publish (reserved short, exchange, routing key, bits): starts relaying the message to
// the consumer as a basic.deliver.
void relay_publish(uint16_t ch, const uint8_t* args, uint32_t n, ChannelState& st) {
  std::lock_guard<std::mutex> lock(g_consumer_mu);
  st.relaying = g_consumer != nullptr;
  if (!st.relaying) return;
  const uint8_t* p = args + 2;
  const uint8_t* end = args + n;
  const std::string exchange = n >= 2 ? read_shortstr(p, end) : std::string();
  const std::string key = read_shortstr(p, end);
  Consumer& c = *g_consumer;
  std::string a;
  shortstr(a, c.tag);
  put64(a, c.next_delivery_tag++);
  a.push_back(0);  // redelivered
  shortstr(a, exchange);
  shortstr(a, key);
  method(c.pending, c.channel, 60, 60, a);
  (void)ch;
}

// A content header or body frame of a relayed message, re-addressed to the consumer's channel.
void relay_content(const uint8_t* frame, size_t len) {
  std::lock_guard<std::mutex> lock(g_consumer_mu);
  if (!g_consumer) return;
  std::string& out = g_consumer->pending;
  const size_t at = out.size();
  out.append(reinterpret_cast<const char*>(frame), len);
  out[at + 1] = static_cast<char>(g_consumer->channel >> 8);
  out[at + 2] = static_cast<char>(g_consumer->channel);
}

// Writes what this read relayed; the consumer's socket is written outside the registry lock.
void flush_relayed() {
  std::shared_ptr<Consumer> c;
  std::string data;
  {
    std::lock_guard<std::mutex> lock(g_consumer_mu);
    if (!g_consumer || g_consumer->pending.empty()) return;
    c = g_consumer;
    data.swap(c->pending);
  }
  (void)write_locked(*c->conn, data);
}

// Handles one method frame; returns false when the connection is to be closed.
bool on_method(uint16_t ch, const uint8_t* p, uint32_t size, std::string& out,
               std::unordered_map<uint16_t, ChannelState>& channels,
               const std::shared_ptr<Conn>& conn) {
  if (size < 4) return false;
  const uint16_t cls = get16(p), m = get16(p + 2);
  const uint8_t* args = p + 4;
  const uint32_t n = size - 4;
  std::string a;
  switch (cls << 16 | m) {
    case 10 << 16 | 11: {  // connection.start-ok
      put16(a, 2047);      // channel_max
      put32(a, 131072);    // frame_max
      put16(a, 0);         // heartbeat: off
      method(out, 0, 10, 30, a);
      return true;
    }
    case 10 << 16 | 31:  // tune-ok
      return true;
    case 10 << 16 | 40:  // connection.open
      shortstr(a, "");
      method(out, 0, 10, 41, a);
      return true;
    case 10 << 16 | 50:  // connection.close
      method(out, 0, 10, 51);
      return false;
    case 10 << 16 | 51:  // close-ok
      return false;
    case 20 << 16 | 10:  // channel.open
      channels[ch] = {};
      longstr(a, "");
      method(out, ch, 20, 11, a);
      return true;
    case 20 << 16 | 40:  // channel.close
      channels.erase(ch);
      method(out, ch, 20, 41);
      return true;
    case 20 << 16 | 41:  // channel.close-ok
      return true;
    case 40 << 16 | 10:  // exchange.declare
      method(out, ch, 40, 11);
      return true;
    case 40 << 16 | 20:  // exchange.delete
      method(out, ch, 40, 21);
      return true;
    case 50 << 16 | 10: {  // queue.declare: reserved short, shortstr queue
      std::string name = "sink";
      if (n >= 3 && n >= 3u + args[2])
        name.assign(reinterpret_cast<const char*>(args + 3), args[2]);
      if (name.empty()) name = "sink.generated";
      shortstr(a, name);
      put32(a, 0);
      put32(a, 0);
      method(out, ch, 50, 11, a);
      return true;
    }
    case 50 << 16 | 20:  // queue.bind
      method(out, ch, 50, 21);
      return true;
    case 50 << 16 | 30:  // queue.purge
    case 50 << 16 | 40:  // queue.delete
      put32(a, 0);
      method(out, ch, 50, static_cast<uint16_t>(m + 1), a);
      return true;
    case 50 << 16 | 50:  // queue.unbind
      method(out, ch, 50, 51);
      return true;
    case 60 << 16 | 10:  // basic.qos
      method(out, ch, 60, 11);
      return true;
    case 60 << 16 | 20: {  // basic.consume: reserved short, queue, consumer tag, bits, table
      const uint8_t* q = args + 2;
      read_shortstr(q, args + n);
      std::string tag = read_shortstr(q, args + n);
      if (tag.empty()) tag = "amq.ctag-sink";
      auto c = std::make_shared<Consumer>();
      c->conn = conn;
      c->channel = ch;
      c->tag = tag;
      {
        std::lock_guard<std::mutex> lock(g_consumer_mu);
        g_consumer = c;
      }
      shortstr(a, tag);
      method(out, ch, 60, 21, a);
      return true;
    }
    case 60 << 16 | 30: {  // basic.cancel
      const uint8_t* q = args;
      const std::string tag = read_shortstr(q, args + n);
      {
        std::lock_guard<std::mutex> lock(g_consumer_mu);
        if (g_consumer && g_consumer->conn == conn) g_consumer.reset();
      }
      shortstr(a, tag);
      method(out, ch, 60, 31, a);
      return true;
    }
    case 60 << 16 | 80:  // basic.ack
      return true;
    case 60 << 16 | 40:  // basic.publish
      ++channels[ch].published;
      relay_publish(ch, args, n, channels[ch]);
      return true;
    case 85 << 16 | 10:  // confirm.select
      channels[ch].confirming = true;
      method(out, ch, 85, 11);
      return true;
    default:
      std::fprintf(stderr, "sink: unsupported method %u.%u, closing\n", cls, m);
      return false;
  }
}

void serve(int fd) {
  auto conn = std::make_shared<Conn>();
  conn->fd = fd;
  std::vector<uint8_t> buf(kReadChunk);
  size_t have = 0;
  bool header_seen = false;
  std::unordered_map<uint16_t, ChannelState> channels;
  std::string out;
  for (;;) {
    ssize_t r = ::recv(fd, buf.data() + have, buf.size() - have, 0);
    if (r <= 0) break;
    have += static_cast<size_t>(r);
    size_t pos = 0;
    bool open = true;
    if (!header_seen) {
      if (have < 8) continue;
      header_seen = true;
      pos = 8;
      std::string a;
      a.push_back(0);  // version major
      a.push_back(9);  // version minor
      put32(a, 0);     // empty server-properties table
      longstr(a, "PLAIN");
      longstr(a, "en_US");
      method(out, 0, 10, 10, a);
    }
    while (open && have - pos >= 8) {
      const uint8_t* f = buf.data() + pos;
      const uint32_t size = get32(f + 3);
      if (size + 8 > buf.size()) buf.resize(size + 8);
      if (have - pos < size + 8u) break;
      const uint16_t ch = get16(f + 1);
      if (f[0] == kFrameMethod) {
        open = on_method(ch, f + 7, size, out, channels, conn);
      } else if (f[0] == 2 || f[0] == 3) {  // content header, body
        if (auto it = channels.find(ch); it != channels.end() && it->second.relaying)
          relay_content(f, size + 8);
      }
      pos += size + 8;
    }
    // One multiple ack per read for every confirming channel.
    for (auto& [ch, st] : channels) {
      if (st.confirming && st.published > st.acked) {
        std::string a;
        put64(a, st.published);
        a.push_back(1);  // multiple
        method(out, ch, 60, 80, a);
        st.acked = st.published;
      }
    }
    flush_relayed();
    if (!out.empty() && !write_locked(*conn, out)) break;
    out.clear();
    if (!open) break;
    std::memmove(buf.data(), buf.data() + pos, have - pos);
    have -= pos;
  }
  {
    std::lock_guard<std::mutex> lock(g_consumer_mu);
    if (g_consumer && g_consumer->conn == conn) g_consumer.reset();
  }
  std::lock_guard<std::mutex> lock(conn->write_mu);
  ::close(fd);
  conn->fd = -1;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  const int port = argc > 1 ? std::atoi(argv[1]) : 0;
  int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(lfd, 512)) {
    std::perror("sink: bind/listen");
    return 1;
  }
  socklen_t len = sizeof addr;
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::printf("listening on %u\n", ntohs(addr.sin_port));
  std::fflush(stdout);
  for (;;) {
    int fd = ::accept(lfd, nullptr, nullptr);
    if (fd < 0) continue;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int rcv = 4 << 20;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    std::thread(serve, fd).detach();
  }
}
