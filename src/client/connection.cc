// Handshake (start / tune / open), channel allocation and close.
#include "client/connection.h"

#include <algorithm>

#include "client/channel.h"

namespace pulse::client {

namespace {

constexpr const char* kProduct = "Pulse client";
constexpr const char* kVersion = "0.1.0";

// Both sides' limits where 0 means "no limit": the smaller real limit wins.
template <typename T>
T negotiate(T client, T server) {
  if (client == 0 || server == 0) return std::max(client, server);
  return std::min(client, server);
}

template <typename M>
const M* as(const amqp::Method& m) {
  return std::get_if<M>(&m);
}

}  // namespace

Connection::Connection(Socket socket, const ConnectionOptions& options)
    : options_(options), socket_(std::move(socket)) {
  if (options_.read_chunk < 4096) options_.read_chunk = 4096;
  last_read_ = last_write_ = std::chrono::steady_clock::now();
}

Connection::~Connection() = default;

Result<std::unique_ptr<Connection>> Connection::open(const ConnectionOptions& options) {
  auto s = Socket::connect(options.host, options.port, options.connect_timeout);
  if (!s) return std::move(s).error();
  if (options.tls) {
    auto st = s->start_tls(options.host, options.tls_options,
                           options.handshake_timeout.value_or(options.connect_timeout));
    if (!st) return std::move(st).error();
  }
  return open_on(std::move(*s), options);
}

Result<std::unique_ptr<Connection>> Connection::open_on(Socket socket,
                                                        const ConnectionOptions& options) {
  std::unique_ptr<Connection> c(new Connection(std::move(socket), options));
  if (options.handshake_timeout) c->options_.rpc_timeout = *options.handshake_timeout;
  if (auto st = c->handshake(); !st) return std::move(st).error();
  c->options_.rpc_timeout = options.rpc_timeout;
  return c;
}

Result<amqp::Method> Connection::await_method0(const char* what) {
  auto st = wait_for([this] { return !method0_.empty(); }, what);
  if (!st) return std::move(st).error();
  amqp::Method m = std::move(method0_.front());
  method0_.pop_front();
  return m;
}

Status Connection::handshake() {
  out_.append(amqp::kProtocolHeader);
  auto m = await_method0("connection.start");
  if (!m) return std::move(m).error();
  const auto* start = as<amqp::ConnectionStart>(*m);
  if (!start) return Error{amqp::kCommandInvalid, "expected connection.start"};
  server_properties_ = start->server_properties;
  const bool external = options_.auth_mechanism == AuthMechanism::kExternal;
  const std::string mechanism = external ? "EXTERNAL" : "PLAIN";
  if (std::string_view(" " + start->mechanisms + " ").find(" " + mechanism + " ") ==
      std::string_view::npos) {
    return Error{0, "server does not offer the " + mechanism + " mechanism (offers '" +
                        start->mechanisms + "')"};
  }

  amqp::ConnectionStartOk ok;
  amqp::FieldTable caps{{"publisher_confirms", true}, {"exchange_exchange_bindings", true},
                        {"basic.nack", true},         {"consumer_cancel_notify", true},
                        {"connection.blocked", true}, {"authentication_failure_close", true}};
  ok.client_properties = {{"product", kProduct},
                          {"version", kVersion},
                          {"platform", "C++20"},
                          {"capabilities", std::move(caps)}};
  if (!options_.connection_name.empty()) {
    ok.client_properties.emplace_back("connection_name", options_.connection_name);
  }
  ok.mechanism = mechanism;
  // EXTERNAL's identity is the TLS client certificate: the response is empty.
  if (!external) {
    ok.response = std::string(1, '\0') + options_.user + std::string(1, '\0') + options_.password;
  }
  ok.locale = "en_US";
  amqp::append_method_frame(out_, 0, ok);

  m = await_method0("connection.tune");
  if (!m) return std::move(m).error();
  const auto* tune = as<amqp::ConnectionTune>(*m);
  if (!tune) return Error{amqp::kCommandInvalid, "expected connection.tune"};
  channel_max_ = negotiate(options_.channel_max, tune->channel_max);
  frame_max_ = negotiate(options_.frame_max, tune->frame_max);
  heartbeat_ = options_.heartbeat ? *options_.heartbeat : tune->heartbeat;
  amqp::ConnectionTuneOk tok;
  tok.channel_max = channel_max_;
  tok.frame_max = frame_max_;
  tok.heartbeat = heartbeat_;
  amqp::append_method_frame(out_, 0, tok);
  if (channel_max_ == 0) channel_max_ = 65535;

  amqp::ConnectionOpen open;
  open.virtual_host = options_.vhost;
  amqp::append_method_frame(out_, 0, open);
  m = await_method0("connection.open-ok");
  if (!m) return std::move(m).error();
  if (!as<amqp::ConnectionOpenOk>(*m)) return Error{amqp::kCommandInvalid, "expected open-ok"};
  state_ = State::kOpen;
  return {};
}

Error Connection::closed_error() const {
  if (error_) return *error_;
  if (state_ == State::kHandshake) return Error{0, "connection is not open yet"};
  return Error{0, "connection is closed"};
}

Result<Channel*> Connection::open_channel() {
  if (!is_open()) return closed_error();
  uint16_t id = 1;
  while (id < channels_.size() && channels_[id]) ++id;
  if (id > channel_max_) {
    return Error{0, "no free channel id (channel_max " + std::to_string(channel_max_) + ")"};
  }
  if (id >= channels_.size()) channels_.resize(id + 1);
  channels_[id] = std::make_unique<Channel>(this, id);
  Channel* ch = channels_[id].get();
  if (auto st = ch->open(); !st) {
    // A refused channel.open closes the channel (or the connection); the id is free again.
    if (id < channels_.size()) channels_[id].reset();
    return std::move(st).error();
  }
  return ch;
}

void Connection::release_channel(uint16_t id) {
  if (id < channels_.size()) channels_[id].reset();
}

Status Connection::close(uint16_t reply_code, std::string_view reply_text,
                         std::optional<std::chrono::milliseconds> timeout) {
  if (state_ != State::kOpen) {
    Status st = error_ ? Status(*error_) : Status();
    socket_.close();
    state_ = State::kClosed;
    return st;
  }
  amqp::ConnectionClose c;
  c.reply_code = reply_code;
  c.reply_text = std::string(reply_text);
  amqp::append_method_frame(out_, 0, c);
  state_ = State::kClosing;
  Status st = wait_for(
      [this] {
        for (const auto& m : method0_) {
          if (std::holds_alternative<amqp::ConnectionCloseOk>(m)) return true;
        }
        return state_ == State::kClosed;
      },
      "connection.close-ok", timeout);
  const bool server_error = state_ == State::kClosed && error_.has_value();
  closed_by_app_ = true;
  state_ = State::kClosed;
  socket_.close();
  for (auto& ch : channels_) {
    if (ch) ch->connection_lost(Error{0, "connection is closed"});
  }
  if (server_error) return *error_;
  return st;
}

}  // namespace pulse::client
