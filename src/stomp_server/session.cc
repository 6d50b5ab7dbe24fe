// The session's frame loop: CONNECT, dispatch, receipts, ERROR frames, heart-beats and the
// end of a session.
#include "stomp_server/session.h"

#include "base/log.h"
#include "stomp/serializer.h"
#include "stomp_server/mapping.h"

namespace pulse::stomp_server {

namespace {

stomp::ParserOptions parser_options(const StompOptions& o) {
  stomp::ParserOptions p;
  p.limits = o.limits;
  p.escaping = stomp::Escaping::rabbitmq;
  // RabbitMQ's parser passes any command on and the session answers "Bad command".
  p.known_commands_only = false;
  return p;
}

// amqp_connection:error_atom of a reply code.
const char* error_atom(uint16_t code) {
  switch (code) {
    case 311:
      return "content_too_large";
    case 313:
      return "no_consumers";
    case 320:
      return "connection_forced";
    case 402:
      return "invalid_path";
    case 403:
      return "access_refused";
    case 404:
      return "not_found";
    case 405:
      return "resource_locked";
    case 406:
      return "precondition_failed";
    case 501:
      return "frame_error";
    case 502:
      return "syntax_error";
    case 503:
      return "command_invalid";
    case 504:
      return "channel_error";
    case 505:
      return "unexpected_frame";
    case 506:
      return "resource_error";
    case 530:
      return "not_allowed";
    case 540:
      return "not_implemented";
    default:
      return "internal_error";
  }
}

}  // namespace

Session::Session(SessionContext ctx, Transport& transport, uint64_t id, PeerInfo peer)
    : ctx_(ctx),
      transport_(transport),
      id_(id),
      peer_(std::move(peer)),
      parser_(parser_options(ctx.options)),
      login_timer_(ctx.io),
      send_timer_(ctx.io),
      receive_timer_(ctx.io),
      consumer_timer_(ctx.io) {}

Session::~Session() {
  if (sync_waiting_) ctx_.broker.durability().remove_waiter(this);
}

std::string Session::protocol() const {
  return peer_.protocol_name + " " + std::string(stomp::version_name(version_));
}

Failure Session::death(const Error& e) {
  return Failure{error_atom(e.code), e.text, true};
}

void Session::start() {
  if (ctx_.options.login_timeout_ms == 0) return;
  login_timer_.expires_after(std::chrono::milliseconds(ctx_.options.login_timeout_ms));
  login_timer_.async_wait([w = weak_from_this()](boost::system::error_code ec) {
    auto self = w.lock();
    if (!self || ec || self->vhost_ != nullptr || self->ended_) return;
    spdlog::info("STOMP connection {}: closing, no successful CONNECT within {} ms", self->id_,
                 self->ctx_.options.login_timeout_ms);
    self->end_session();
    self->transport_.abort();
  });
}

void Session::input(std::string_view bytes) {
  if (ended_ || closing_) return;
  recv_oct_ += bytes.size();
  ++recv_cnt_;
  parser_.feed(bytes);
  while (!ended_ && !closing_) {
    stomp::ParseEvent ev = parser_.next();
    if (ev.type == stomp::ParseEvent::Type::need_more) break;
    if (ev.type == stomp::ParseEvent::Type::heartbeat) continue;
    if (ev.type == stomp::ParseEvent::Type::error) {
      spdlog::warn("STOMP connection {}: bad frame: {}: {}", id_, ev.error->error.message,
                   ev.error->error.detail);
      send_error(Failure{ev.error->error.message, ev.error->error.detail, true});
      close();
      break;
    }
    last_active_ = std::chrono::steady_clock::now();
    handle(ev.frame);
  }
}

void Session::handle(stomp::Frame& f) {
  if (f.command == "CONNECT" || f.command == "STOMP") {
    if (vhost_ != nullptr) {
      // RabbitMQ's processor has no clause for a second CONNECT: its session dies.
      send_error(Failure{"Processing error", "Processing error", true});
      close();
      return;
    }
    if (auto e = connect(f, false)) {
      send_error(*e);
      if (e->close) close();
    }
    return;
  }
  if (vhost_ == nullptr) {
    if (ctx_.options.implicit_connect) {
      stomp::Frame empty;
      empty.command = "CONNECT";
      if (auto e = connect(empty, true)) {
        send_error(*e);
        close();
        return;
      }
      // The implicit CONNECT answers nothing.
    } else {
      send_error(Failure{"Illegal command", "You must log in using CONNECT first"});
      return;
    }
  }
  if (version_ == stomp::Version::v1_0) {
    for (auto& h : f.headers) {
      size_t n = h.value.find_first_not_of(' ');
      h.value.erase(0, n == std::string::npos ? h.value.size() : n);
    }
  }
  bool stop = false;
  Step s = dispatch(f, stop);
  if (s) {
    spdlog::warn("STOMP connection {}: ERROR sent: {}: {}", id_, s->message, s->detail);
    send_error(*s);
    if (s->close) close();
    return;
  }
  if (f.command != "SEND") {
    if (const std::string* r = f.header("receipt")) send_receipt(*r);
  }
  if (stop) close();
}

Step Session::dispatch(stomp::Frame& f, bool& stop) {
  const std::string& c = f.command;
  if (c == "SUBSCRIBE" || c == "UNSUBSCRIBE") {
    const std::string* durable = f.header("durable");
    const std::string* persistent = f.header("persistent");
    if (((durable && *durable == "true") || (persistent && *persistent == "true")) &&
        !f.header("id"))
      return Failure{"Missing Header", "Header 'id' is required for durable subscriptions"};
    return c == "SUBSCRIBE" ? subscribe(f) : unsubscribe(f);
  }
  if (c == "SEND") return send(f);
  if (c == "ACK") return ack_action(f, false);
  if (c == "NACK") return ack_action(f, true);
  if (c == "BEGIN" || c == "COMMIT" || c == "ABORT") {
    bool handled = false;
    return transaction(f, handled);
  }
  if (c == "DISCONNECT") {
    stop = true;
    return std::nullopt;
  }
  return Failure{"Bad command", "Could not interpret command " + erl_quote(c) + "\n"};
}

Step Session::connect(const stomp::Frame& frame, bool implicit) {
  auto version = stomp::negotiate_version(frame.header("accept-version"));
  if (!version) return Failure{version.error().message, version.error().detail};
  stomp::Frame f = frame;
  if (*version == stomp::Version::v1_0) {
    for (auto& h : f.headers) {
      size_t n = h.value.find_first_not_of(' ');
      h.value.erase(0, n == std::string::npos ? h.value.size() : n);
    }
  }
  const StompOptions& o = ctx_.options;
  const std::string* login_h = f.header("login");
  const std::string* pass_h = f.header("passcode");
  std::optional<std::string> login =
      login_h ? std::optional<std::string>(*login_h) : o.default_login;
  std::optional<std::string> pass =
      pass_h ? std::optional<std::string>(*pass_h) : o.default_passcode;
  if (peer_.credentials) {
    login = peer_.credentials->login;
    pass = peer_.credentials->passcode;
  }
  const std::string* host_h = f.header("host");
  std::string vhost = host_h ? *host_h : o.default_vhost;
  const std::string* hb_h = f.header("heart-beat");
  auto hb = stomp::parse_heart_beat(hb_h ? std::string_view(*hb_h) : std::string_view("0,0"));
  if (!login) return Failure{"Bad CONNECT", "Missing login or passcode header(s)"};
  if (!hb) return Failure{hb.error().message, hb.error().detail};

  const bool loopback = peer_.peer.address().is_loopback();
  const std::string address = peer_.peer.address().to_string();
  auto& limiter = ctx_.failures;
  const bool counted = limiter.applies_to(loopback);
  const auto now = auth::FailureLimiter::Clock::now();
  const Failure refused{"Bad CONNECT", "Access refused for user '" + *login + "'\n"};
  if (counted && limiter.blocked(address, now)) {
    spdlog::warn("STOMP connection {}: {} is over auth_failure_limit; credentials not checked", id_,
                 address);
    return refused;
  }
  const auth::User* u = pass ? ctx_.auth.authenticate(*login, *pass) : nullptr;
  if (u == nullptr) {
    if (counted) limiter.record_failure(address, now);
    spdlog::warn("STOMP login failed for user '{}': authentication failed", *login);
    return refused;
  }
  broker::VHost* vh = ctx_.broker.find_vhost(vhost);
  const Failure denied{"Bad CONNECT", "Virtual host '" + vhost + "' access denied"};
  if (vh == nullptr) {
    spdlog::warn("STOMP login failed for user '{}': virtual host access not allowed", *login);
    return denied;
  }
  // RabbitMQ's direct connection answers a limit with not_allowed, which its STOMP plugin words
  // as a denied vhost.
  if (ctx_.limits && ctx_.limits->connection) {
    if (auto s = ctx_.limits->connection(*vh, *login); !s) {
      spdlog::warn("STOMP login failed for user '{}': {}", *login, s.error().text);
      return denied;
    }
  }
  if (!ctx_.auth.has_vhost_access(*login, vhost)) {
    spdlog::warn("STOMP login failed for user '{}': virtual host access not allowed", *login);
    return denied;
  }
  if (!loopback && auth::loopback_only(*login, o.loopback_users)) {
    spdlog::warn("STOMP login failed for user '{}': this user's access is restricted to localhost",
                 *login);
    return Failure{"Bad CONNECT", "non-loopback access denied"};
  }
  // The plugin's channel.open fails under max-channels and its session dies with this text.
  if (ctx_.limits && ctx_.limits->channel) {
    if (auto s = ctx_.limits->channel(*login); !s) {
      spdlog::warn("STOMP connection {}: {}", id_, s.error().text);
      return Failure{"Processing error", "Processing error", true};
    }
  }
  version_ = *version;
  have_version_ = true;
  user_ = *login;
  vhost_name_ = vhost;
  vhost_ = vh;
  auth_mechanism_ = login_h && !peer_.credentials ? "STOMP" : "config";
  principal_ = std::make_unique<broker::Principal>(ctx_.auth, user_, *vh, id_);
  session_id_ = new_session_id();
  connected_at_ = std::chrono::system_clock::now();
  login_timer_.cancel();
  heartbeat_ = stomp::negotiate_heart_beat(*hb);
  stomp::Frame ok;
  ok.command = "CONNECTED";
  if (!o.hide_server_info) ok.add("server", o.server_header);
  ok.add("session", session_id_);
  ok.add("heart-beat", heartbeat_.heart_beat());
  ok.add("version", std::string(stomp::version_name(version_)));
  if (!implicit) send_frame(ok);
  spdlog::info("STOMP connection {}: user '{}' connected to vhost '{}' ({})", id_, user_,
               vhost_name_, protocol());
  start_heartbeats();
  return std::nullopt;
}

void Session::send_frame(const stomp::Frame& f) {
  stomp::SerializeOptions so;
  so.escaping = stomp::Escaping::rabbitmq;
  transport_.send(stomp::serialize(f, version_, so));
}

void Session::send_error(const Failure& e, const std::vector<stomp::Header>& extra) {
  stomp::Frame f = stomp::make_error_frame(e.message, e.detail);
  for (const auto& h : extra) f.headers.push_back(h);
  send_frame(f);
}

void Session::send_receipt(const std::string& id) {
  stomp::Frame r;
  r.command = "RECEIPT";
  r.add("receipt-id", id);
  send_frame(r);
}

void Session::unblock() {
  if (!blocked_ || ended_) return;
  blocked_ = false;
  transport_.resume_reading();
}

void Session::force_close(const std::string& message, const std::string& detail) {
  if (ended_) return;
  send_error(Failure{message, detail, true});
  close();
}

void Session::close() {
  if (closing_) return;
  closing_ = true;
  end_session();
  transport_.close_after_flush();
}

void Session::closed() {
  end_session();
}

void Session::end_session() {
  if (ended_) return;
  ended_ = true;
  login_timer_.cancel();
  send_timer_.cancel();
  receive_timer_.cancel();
  consumer_timer_.cancel();
  auto subs = std::move(subs_);
  subs_.clear();
  for (auto& [tag, s] : subs) remove_consumer(*s);
  auto unacked = std::move(unacked_);
  unacked_.clear();
  // Requeued in reverse so each lands back in its original place.
  for (auto it = unacked.rbegin(); it != unacked.rend(); ++it)
    if (!it->queue->deleted()) it->queue->requeue(std::move(it->message));
  transactions_.clear();
  if (sync_waiting_) {
    ctx_.broker.durability().remove_waiter(this);
    sync_waiting_ = false;
  }
  if (vhost_ != nullptr) ctx_.broker.connection_closed(id_);
  principal_.reset();
}

}  // namespace pulse::stomp_server
