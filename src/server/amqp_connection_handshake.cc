// Channel-0 methods: start/tune/open handshake, close in both directions, and teardown.
#include "base/log.h"
#include "server/amqp_connection.h"
#include "server/channel.h"
#include "server/server.h"

namespace pulse::server {

namespace asio = boost::asio;
using amqp::FieldTable;

void AmqpConnection::send_start() {
  FieldTable caps{{"publisher_confirms", true},
                  {"exchange_exchange_bindings", true},
                  {"basic.nack", true},
                  {"consumer_cancel_notify", true},
                  {"connection.blocked", true},
                  {"consumer_priorities", true},
                  {"authentication_failure_close", true},
                  {"per_consumer_qos", true},
                  {"direct_reply_to", true}};
  amqp::ConnectionStart start;
  start.version_major = 0;
  start.version_minor = 9;
  start.server_properties = FieldTable{
      {"capabilities", std::move(caps)},
      {"cluster_name", options().cluster_name},
      {"copyright", "Copyright (c) the Pulse authors"},
      {"information", "Licensed under the MPL 2.0. Pulse: an AMQP 0-9-1 broker"},
      {"platform", "C++20 (Linux)"},
      {"product", "Pulse"},
      {"version", "0.1.0"}};
  start.mechanisms = "PLAIN AMQPLAIN";
  start.locales = "en_US";
  amqp::append_method_frame(out_, 0, start);
}

void AmqpConnection::handle_connection_method(const amqp::Method& m) {
  auto unexpected = [&] {
    connection_error(amqp::kCommandInvalid,
                     std::string("COMMAND_INVALID - unexpected method ") + amqp::name_of(m) +
                         " in connection state",
                     amqp::class_id_of(m), amqp::method_id_of(m));
  };
  switch (state_) {
    case State::kStartOk:
      if (auto* so = std::get_if<amqp::ConnectionStartOk>(&m)) return handle_start_ok(*so);
      break;
    case State::kTuneOk:
      if (auto* t = std::get_if<amqp::ConnectionTuneOk>(&m)) return handle_tune_ok(*t);
      break;
    case State::kOpen:
      if (auto* o = std::get_if<amqp::ConnectionOpen>(&m)) return handle_open(*o);
      break;
    case State::kRunning:
      if (std::holds_alternative<amqp::ConnectionClose>(m)) {
        amqp::append_method_frame(out_, 0, amqp::ConnectionCloseOk{});
        close_after_flush_ = true;
        state_ = State::kClosed;
        return;
      }
      if (std::holds_alternative<amqp::ConnectionCloseOk>(m)) return;
      if (auto* us = std::get_if<amqp::ConnectionUpdateSecret>(&m)) {
        (void)us;
        amqp::append_method_frame(out_, 0, amqp::ConnectionUpdateSecretOk{});
        return;
      }
      if (std::holds_alternative<amqp::ConnectionBlocked>(m) ||
          std::holds_alternative<amqp::ConnectionUnblocked>(m)) {
        return;
      }
      break;
    default:
      break;
  }
  if (std::holds_alternative<amqp::ConnectionClose>(m)) {
    amqp::append_method_frame(out_, 0, amqp::ConnectionCloseOk{});
    close_after_flush_ = true;
    state_ = State::kClosed;
    return;
  }
  unexpected();
}

void AmqpConnection::refuse_login(const std::string& mechanism) {
  spdlog::warn("connection {}: login refused for user '{}' ({})", id_, user_, mechanism);
  if (cap_auth_failure_close_) {
    connection_error(amqp::kAccessRefused,
                     "ACCESS_REFUSED - Login was refused using authentication mechanism " +
                         mechanism + ". For details see the broker logfile.");
  } else {
    close_after_flush_ = true;
    state_ = State::kClosed;
  }
}

void AmqpConnection::handle_start_ok(const amqp::ConnectionStartOk& m) {
  if (auto* caps = amqp::find(m.client_properties, "capabilities")) {
    if (auto* t = caps->as_table()) {
      auto flag = [t](const char* k) {
        auto* v = amqp::find(*t, k);
        return v && v->as_bool() && *v->as_bool();
      };
      cap_cancel_notify_ = flag("consumer_cancel_notify");
      cap_auth_failure_close_ = flag("authentication_failure_close");
    }
  }
  std::string user, password;
  if (m.mechanism == "PLAIN") {
    // authzid \0 authcid \0 password
    auto first = m.response.find('\0');
    auto second = first == std::string::npos ? first : m.response.find('\0', first + 1);
    if (second == std::string::npos) {
      connection_error(amqp::kAccessRefused, "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile.");
      return;
    }
    user = m.response.substr(first + 1, second - first - 1);
    password = m.response.substr(second + 1);
  } else if (m.mechanism == "AMQPLAIN") {
    // A field table without its length prefix.
    std::string framed;
    ByteWriter w(framed);
    w.longstr(m.response);
    ByteReader r(framed.data(), framed.size());
    FieldTable t;
    if (amqp::decode_table(r, t)) {
      if (auto* v = amqp::find(t, "LOGIN"); v && v->as_string()) user = *v->as_string();
      if (auto* v = amqp::find(t, "PASSWORD"); v && v->as_string()) password = *v->as_string();
    }
  } else {
    connection_error(amqp::kCommandInvalid, "COMMAND_INVALID - unknown authentication mechanism '" + m.mechanism + "'");
    return;
  }
  user_ = user;
  mechanism_ = m.mechanism;
  const auth::User* u = auth().authenticate(user, password);
  bool loopback = false;
  boost::system::error_code ec;
  auto peer = socket_.remote_endpoint(ec);
  if (!ec) loopback = peer.address().is_loopback();
  if (!u || (!loopback && auth::loopback_only(user, options().loopback_users))) {
    refuse_login(m.mechanism);
    return;
  }
  amqp::ConnectionTune tune;
  tune.channel_max = options().channel_max;
  tune.frame_max = options().frame_max;
  tune.heartbeat = options().heartbeat;
  amqp::append_method_frame(out_, 0, tune);
  state_ = State::kTuneOk;
}

void AmqpConnection::handle_tune_ok(const amqp::ConnectionTuneOk& m) {
  auto negotiate = [this](const char* field, uint64_t client, uint64_t min, uint64_t server) {
    std::string detail = client == 0 ? " (no limit)" : "";
    if (client != 0 && client < min) {
      connection_error(amqp::kNotAllowed, "NOT_ALLOWED - negotiated " + std::string(field) + " = " +
                                              std::to_string(client) + detail +
                                              " is lower than the minimum allowed value (" +
                                              std::to_string(min) + ")");
      return false;
    }
    if (server != 0 && (client == 0 || client > server)) {
      connection_error(amqp::kNotAllowed, "NOT_ALLOWED - negotiated " + std::string(field) + " = " +
                                              std::to_string(client) + detail +
                                              " is higher than the maximum allowed value (" +
                                              std::to_string(server) + ")");
      return false;
    }
    return true;
  };
  if (!negotiate("frame_max", m.frame_max, amqp::kFrameMinSize, options().frame_max)) return;
  if (!negotiate("channel_max", m.channel_max, 1, options().channel_max)) return;
  frame_max_ = m.frame_max;
  channel_max_ = m.channel_max;
  heartbeat_ = m.heartbeat;
  state_ = State::kOpen;
  start_heartbeat();
}

void AmqpConnection::handle_open(const amqp::ConnectionOpen& m) {
  broker::VHost* vh = broker().find_vhost(m.virtual_host);
  if (!vh) {
    connection_error(amqp::kNotAllowed, "NOT_ALLOWED - vhost " + m.virtual_host + " not found");
    return;
  }
  if (!auth().has_vhost_access(user_, m.virtual_host)) {
    connection_error(amqp::kNotAllowed, "NOT_ALLOWED - access to vhost '" + m.virtual_host +
                                            "' refused for user '" + user_ + "'");
    return;
  }
  vhost_ = vh;
  state_ = State::kRunning;
  handshake_timer_.cancel();
  amqp::append_method_frame(out_, 0, amqp::ConnectionOpenOk{});
  spdlog::info("connection {}: user '{}' opened vhost '{}'", id_, user_, m.virtual_host);
}

void AmqpConnection::connection_error(uint16_t code, std::string text, uint16_t class_id,
                                      uint16_t method_id) {
  if (state_ == State::kClosing || state_ == State::kClosed) return;
  spdlog::warn("connection {}: closing with {}: {}", id_, code, text);
  amqp::ConnectionClose close;
  close.reply_code = code;
  close.reply_text = std::move(text);
  close.class_id = class_id;
  close.method_id = method_id;
  amqp::append_method_frame(out_, 0, close);
  state_ = State::kClosing;
  // Channels stop working at once; their consumers and unacked messages are released.
  for (auto& [id, ch] : channels_) ch->release();
  // The client gets a little while to answer close-ok before the socket is shut.
  close_timer_.expires_after(std::chrono::seconds(3));
  close_timer_.async_wait([self = weak_from_this()](boost::system::error_code ec) {
    if (auto c = self.lock(); c && !ec) c->shutdown_socket();
  });
  schedule_flush();
}

void AmqpConnection::force_close(uint16_t code, const std::string& text) {
  connection_error(code, text);
  flush();
}

}  // namespace pulse::server
