// Channel-0 methods: start/tune/open handshake, close in both directions, and teardown.
#include <algorithm>

#include "amqp/error_text.h"
#include "base/log.h"
#include "server/amqp_connection.h"
#include "server/channel.h"
#include "server/connection_limits.h"
#include "server/server.h"

namespace pulse::server {

namespace asio = boost::asio;
using amqp::FieldTable;

namespace {
// RabbitMQ's SILENT_CLOSE_DELAY: how long a refused handshake or a client that broke framing
// waits before its socket is closed, so that failures cannot be retried at full speed.
constexpr std::chrono::seconds kSilentCloseDelay{3};
}  // namespace

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
  start.server_properties =
      FieldTable{{"capabilities", std::move(caps)},
                 {"cluster_name", broker().global_parameters().cluster_name()},
                 {"copyright", "Copyright (c) the Pulse authors"},
                 {"information", "Licensed under the MPL 2.0. Pulse: an AMQP 0-9-1 broker"},
                 {"platform", "C++20 (Linux)"},
                 {"product", "Pulse"},
                 {"version", "0.1.0"}};
  for (std::string_view m : offered_mechanisms()) {
    if (!start.mechanisms.empty()) start.mechanisms += ' ';
    start.mechanisms += m;
  }
  start.locales = "en_US";
  amqp::append_method_frame(out_.bytes(), 0, start);
}

const char* AmqpConnection::state_name() const {
  switch (state_) {
    case State::kHeader:
    case State::kStarting:
      return "starting";
    case State::kTuning:
      return "tuning";
    case State::kOpening:
      return "opening";
    case State::kRunning:
      return "running";
    case State::kClosing:
      return "closing";
    case State::kDiscarding:
    case State::kClosed:
      return "closed";
  }
  return "closed";
}

const char* AmqpConnection::state_text() const {
  // RabbitMQ shows "blocked" for a connection held by a resource alarm.
  if (state_ == State::kRunning && blocked_) return "blocked";
  return state_name();
}

// RabbitMQ's handle_method0: each method is valid in one state only; anything else is
// "unexpected method in connection state S" (which before connection.open means a silent close).
void AmqpConnection::handle_connection_method(const amqp::Method& m) {
  if (std::holds_alternative<amqp::ConnectionClose>(m)) {
    if (state_ == State::kRunning || state_ == State::kClosing) {
      // The client's close (or one crossing ours) is answered; the client then closes TCP, or
      // the close timer does.
      amqp::append_method_frame(out_.bytes(), 0, amqp::ConnectionCloseOk{});
      if (state_ == State::kRunning) {
        state_ = State::kClosing;
        end_session();
        heartbeat_timer_.cancel();
        arm_close_timer(closing_timeout());
      }
      return;
    }
  } else if (std::holds_alternative<amqp::ConnectionCloseOk>(m)) {
    if (state_ == State::kClosing) return terminate();
  } else if (state_ == State::kClosing) {
    return;
  } else if (auto* so = std::get_if<amqp::ConnectionStartOk>(&m)) {
    if (state_ == State::kStarting) return handle_start_ok(*so);
  } else if (auto* t = std::get_if<amqp::ConnectionTuneOk>(&m)) {
    if (state_ == State::kTuning) return handle_tune_ok(*t);
  } else if (auto* o = std::get_if<amqp::ConnectionOpen>(&m)) {
    if (state_ == State::kOpening) return handle_open(*o);
  } else if (std::holds_alternative<amqp::ConnectionUpdateSecret>(m)) {
    if (state_ == State::kRunning) {
      amqp::append_method_frame(out_.bytes(), 0, amqp::ConnectionUpdateSecretOk{});
      return;
    }
  }
  connection_error(
      amqp::kChannelError,
      std::string("CHANNEL_ERROR - unexpected method in connection state ") + state_name(),
      amqp::class_id_of(m), amqp::method_id_of(m));
}

void AmqpConnection::refuse_login(const std::string& mechanism) {
  spdlog::warn("connection {}: login refused for user '{}' ({})", id_, user_, mechanism);
  // RabbitMQ's auth_fail: only clients that announced authentication_failure_close get a
  // close frame (the socket goes at close-ok); the others wait out the silent-close delay.
  if (!cap_auth_failure_close_) return discard_then_close();
  amqp::ConnectionClose close;
  close.reply_code = amqp::kAccessRefused;
  close.reply_text = "ACCESS_REFUSED - Login was refused using authentication mechanism " +
                     mechanism + ". For details see the broker logfile.";
  amqp::append_method_frame(out_.bytes(), 0, close);
  state_ = State::kClosing;
  end_session();
  arm_close_timer(kSilentCloseDelay);
}

void AmqpConnection::handle_start_ok(const amqp::ConnectionStartOk& m) {
  if (auto* caps = amqp::find(m.client_properties, "capabilities")) {
    if (auto* t = caps->as_table()) {
      auto flag = [t](const char* k) {
        auto* v = amqp::find(*t, k);
        return v && v->as_bool() && *v->as_bool();
      };
      cap_cancel_notify_ = flag("consumer_cancel_notify");
      cap_blocked_ = flag("connection.blocked");
      cap_auth_failure_close_ = flag("authentication_failure_close");
    }
  }
  // RabbitMQ's auth_mechanism_to_module: a mechanism it has no module for is unknown (EXTERNAL
  // too unless listed, as without rabbitmq_auth_mechanism_ssl), one it does not offer on this
  // connection (EXTERNAL on plaintext, one left out of auth_mechanisms.N) is invalid. Both are
  // errors before tune-ok, so the socket closes silently.
  const auto offered = offered_mechanisms();
  const auto& configured = options().auth_mechanisms;
  const bool known = m.mechanism == "PLAIN" || m.mechanism == "AMQPLAIN" ||
                     (m.mechanism == "EXTERNAL" && std::find(configured.begin(), configured.end(),
                                                             "EXTERNAL") != configured.end());
  if (known && std::find(offered.begin(), offered.end(), m.mechanism) == offered.end()) {
    connection_error(amqp::kCommandInvalid,
                     "COMMAND_INVALID - invalid authentication mechanism '" + m.mechanism + "'");
    return;
  }
  std::string user, password;
  if (m.mechanism == "EXTERNAL" && known) {
    user = external_user();  // the response is ignored, as rabbitmq_auth_mechanism_ssl does
  } else if (m.mechanism == "PLAIN") {
    // authzid \0 authcid \0 password
    auto first = m.response.find('\0');
    auto second = first == std::string::npos ? first : m.response.find('\0', first + 1);
    if (second == std::string::npos) {
      // RabbitMQ's PLAIN mechanism: a syntax error, which before tune-ok closes silently.
      connection_error(
          amqp::kSyntaxError,
          "SYNTAX_ERROR - response " +
              amqp::erlang_print_binary(std::span(
                  reinterpret_cast<const uint8_t*>(m.response.data()), m.response.size())) +
              " invalid");
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
    connection_error(amqp::kCommandInvalid,
                     "COMMAND_INVALID - unknown authentication mechanism '" + m.mechanism + "'");
    return;
  }
  user_ = user;
  mechanism_ = m.mechanism;
  client_properties_ = m.client_properties;
  bool loopback = false;
  std::string address;
  boost::system::error_code ec;
  auto peer = socket_.remote_endpoint(ec);
  if (!ec) {
    loopback = peer.address().is_loopback();
    address = peer.address().to_string();
  }
  // An address over its failure limit is refused with the same reply as a wrong password,
  // without checking the credentials; the refusal is delayed like any other (refuse_login).
  auto& limiter = server().auth_failures();
  const bool counted = !ec && limiter.applies_to(loopback);
  const auto now = auth::FailureLimiter::Clock::now();
  if (counted && limiter.blocked(address, now)) {
    spdlog::warn("connection {}: {} is over auth_failure_limit; credentials not checked", id_,
                 address);
    refuse_login(m.mechanism);
    return;
  }
  // EXTERNAL: the verified certificate is the credential; the user must exist.
  const auth::User* u = m.mechanism == "EXTERNAL"
                            ? (user.empty() ? nullptr : auth().find_user(user))
                            : auth().authenticate(user, password);
  if (!u || (!loopback && auth::loopback_only(user, options().loopback_users))) {
    if (counted) limiter.record_failure(address, now);
    refuse_login(m.mechanism);
    return;
  }
  amqp::ConnectionTune tune;
  tune.channel_max = options().channel_max;
  tune.frame_max = options().frame_max;
  tune.heartbeat = options().heartbeat;
  amqp::append_method_frame(out_.bytes(), 0, tune);
  state_ = State::kTuning;
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
  state_ = State::kOpening;
  start_heartbeat();
}

void AmqpConnection::handle_open(const amqp::ConnectionOpen& m) {
  broker::VHost* vh = broker().find_vhost(m.virtual_host);
  if (!vh) {
    connection_error(amqp::kNotAllowed, "NOT_ALLOWED - vhost " + m.virtual_host + " not found",
                     amqp::ConnectionOpen::kClassId, amqp::ConnectionOpen::kMethodId);
    return;
  }
  // RabbitMQ 3.10 checks the limits before the user's access to the vhost.
  if (auto s = check_connection_limits(server_, *vh, user_); !s) {
    connection_error(s.error().code, s.error().text, amqp::ConnectionOpen::kClassId,
                     amqp::ConnectionOpen::kMethodId);
    return;
  }
  if (!auth().has_vhost_access(user_, m.virtual_host)) {
    connection_error(
        amqp::kNotAllowed,
        "NOT_ALLOWED - access to vhost '" + m.virtual_host + "' refused for user '" + user_ + "'",
        amqp::ConnectionOpen::kClassId, amqp::ConnectionOpen::kMethodId);
    return;
  }
  vhost_ = vh;
  vhost_name_ = m.virtual_host;
  state_ = State::kRunning;
  handshake_timer_.cancel();
  amqp::append_method_frame(out_.bytes(), 0, amqp::ConnectionOpenOk{});
  spdlog::info("connection {}: user '{}' opened vhost '{}'", id_, user_, m.virtual_host);
}

void AmqpConnection::connection_error(uint16_t code, std::string text, uint16_t class_id,
                                      uint16_t method_id) {
  if (state_ >= State::kClosing) {
    spdlog::info("connection {}: ignoring error while closing: {}", id_, text);
    return;
  }
  if (state_ >= State::kOpening) return send_close(code, std::move(text), class_id, method_id);
  // Before tune-ok RabbitMQ does not trust the client with an answer (handle_exception/3):
  // it closes the socket after a delay, so failed logins cannot be retried at full speed.
  spdlog::warn("connection {}: handshake failed in state {}: {}", id_, state_name(), text);
  discard_then_close();
}

void AmqpConnection::send_close(uint16_t code, std::string text, uint16_t class_id,
                                uint16_t method_id) {
  spdlog::warn("connection {}: closing with {}: {}", id_, code, text);
  amqp::ConnectionClose close;
  close.reply_code = code;
  close.reply_text = amqp::clamp_reply_text(std::move(text));
  close.class_id = class_id;
  close.method_id = method_id;
  amqp::append_method_frame(out_.bytes(), 0, close);
  state_ = State::kClosing;
  // Channels stop at once: consumers go, unacked messages are requeued, exclusive queues die.
  end_session();
  heartbeat_timer_.cancel();
  arm_close_timer(closing_timeout());
  schedule_flush();
}

// RabbitMQ waits for close-ok for the heartbeat timeout, but never longer than 30 s.
std::chrono::milliseconds AmqpConnection::closing_timeout() const {
  constexpr uint16_t kClosingTimeoutS = 30;
  uint16_t s = heartbeat_ > 0 && heartbeat_ < kClosingTimeoutS ? heartbeat_ : kClosingTimeoutS;
  return std::chrono::seconds(s);
}

void AmqpConnection::discard_then_close() {
  if (state_ == State::kClosed) return;
  // Input keeps being read (and dropped) meanwhile, so the close is a FIN rather than a reset
  // that could destroy a close frame in flight.
  state_ = State::kDiscarding;
  end_session();
  heartbeat_timer_.cancel();
  arm_close_timer(kSilentCloseDelay);
  schedule_flush();
}

void AmqpConnection::arm_close_timer(std::chrono::milliseconds after) {
  close_timer_.expires_after(after);
  close_timer_.async_wait([self = weak_from_this()](boost::system::error_code ec) {
    if (auto c = self.lock(); c && !ec) c->shutdown_socket();
  });
}

void AmqpConnection::end_session() {
  if (session_ended_) return;
  session_ended_ = true;
  for (auto& [id, ch] : channels_) ch->release();
  broker().connection_closed(id_);
}

void AmqpConnection::terminate() {
  close_after_flush_ = true;
  state_ = State::kClosed;
  end_session();
  schedule_flush();
}

void AmqpConnection::vhost_deleted() {
  force_close(amqp::kConnectionForced, "CONNECTION_FORCED - vhost '" + vhost_name_ + "' is down");
  // Channels were released by the close; nothing may reach the vhost any more.
  vhost_ = nullptr;
}

void AmqpConnection::force_close(uint16_t code, const std::string& text) {
  if (state_ < State::kOpening) {
    shutdown_socket();
    return;
  }
  connection_error(code, text);
  flush();
}

}  // namespace pulse::server
