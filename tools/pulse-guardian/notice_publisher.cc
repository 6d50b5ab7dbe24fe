#include "notice_publisher.h"

#include "amqp/generated/constants.h"
#include "base/log.h"
#include "cli.h"
#include "client/channel.h"
#include "client/connection.h"
#include "client/socket.h"
#include "guardian_args.h"
#include "pulse/guardian/notice_text.h"

namespace pulse::tools {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A check of the exchange is one short exchange of frames: a broker that takes longer than this
// is treated as unreachable for now (tried again later).
constexpr milliseconds kPrepareTimeout{5000};
constexpr seconds kMaxPrepareDelay{60};

// How long a notice may wait for its confirm, reconnects included: a broker restart or a
// failover between nodes should not lose it.
constexpr milliseconds kDeadline{120000};

bool is_login_refusal(const Error& e) {
  return e.code == amqp::kAccessRefused || e.code == amqp::kNotAllowed ||
         client::is_tls_setup_error(e);
}

std::string where(const client::ConnectionOptions& e) {
  return describe_endpoints({e});
}

}  // namespace

NoticePublisher::NoticePublisher(std::vector<client::ConnectionOptions> endpoints)
    : endpoints_(std::move(endpoints)) {
  PublisherOptions o;
  o.recovery.endpoints = endpoints_;
  for (auto& e : o.recovery.endpoints) {
    if (e.connection_name.empty()) e.connection_name = "pulse-guardian notices";
    // The loop pumps the publisher between polls: a reconnect attempt to a silent host must
    // not hold it (and a SIGTERM) for the client's default 30 s.
    e.connect_timeout = std::min(e.connect_timeout, kPrepareTimeout);
    e.handshake_timeout = kPrepareTimeout;
  }
  o.deadline = kDeadline;
  o.declare_exchanges = false;  // prepare() did, once, and only if it was missing
  o.max_in_flight = kMaxPending;
  o.recovery.on_disconnected = [this](const Error& why) {
    spdlog::warn("guardian: notice publisher: connection lost: {}; reconnecting", why.text);
  };
  o.recovery.on_recovered = [this](const client::ConnectionOptions& e) {
    connection_failing_ = false;
    spdlog::info("guardian: notice publisher: reconnected to {}", where(e));
  };
  o.recovery.on_attempt_failed = [this](const client::ConnectionOptions& e, const Error& why) {
    if (connection_failing_) {
      spdlog::debug("guardian: notice publisher: cannot connect to {}: {}", where(e), why.text);
      return;
    }
    connection_failing_ = true;
    spdlog::warn("guardian: notice publisher: cannot connect to {}: {}; retrying (logged once)",
                 where(e), why.text);
  };
  publisher_ = std::make_unique<Publisher>(std::move(o));
  publisher_->on_outcome([this](uint64_t, const Status& outcome) {
    if (in_flight_ > 0) --in_flight_;
    if (outcome) {
      ++confirmed_;
      return;
    }
    ++failed_;
    spdlog::warn("guardian: a notice was not published on {}: {}", guardian::kNoticeExchange,
                 outcome.error().text);
    // Deleted since it was checked: check (and declare) it again before the next one.
    if (outcome.error().code == amqp::kNotFound && state_ == State::kReady) {
      state_ = State::kUnprepared;
      next_prepare_ = {};
    }
  });
}

NoticePublisher::~NoticePublisher() = default;

NoticePublisher::State NoticePublisher::try_prepare(const client::ConnectionOptions& endpoint,
                                                    std::string& why) {
  client::ConnectionOptions o = endpoint;
  o.connect_timeout = kPrepareTimeout;
  o.handshake_timeout = kPrepareTimeout;
  o.rpc_timeout = kPrepareTimeout;
  if (o.connection_name.empty()) o.connection_name = "pulse-guardian setup";
  auto conn = client::Connection::open(o);
  if (!conn) {
    why = "cannot connect to " + where(endpoint) + ": " + conn.error().text;
    if (!is_login_refusal(conn.error())) return State::kUnprepared;
    spdlog::error(
        "guardian: {}; notices will not be published (check --amqp-url's user, "
        "password and vhost)",
        why);
    return State::kOff;
  }
  const std::string exchange = guardian::kNoticeExchange;
  auto close = [&] { (void)(*conn)->close(); };
  auto ch = (*conn)->open_channel();
  if (!ch) {
    why = ch.error().text;
    return State::kUnprepared;
  }
  client::ExchangeOptions passive;
  passive.passive = true;
  Status st = (*ch)->exchange_declare(exchange, "topic", passive);
  if (st) {
    close();
    spdlog::info("guardian: publishing notices on {} at {}", exchange, where(endpoint));
    return State::kReady;
  }
  if (st.error().code != amqp::kNotFound) {
    why = "cannot look up " + exchange + " at " + where(endpoint) + ": " + st.error().text;
    close();
    return State::kUnprepared;
  }
  // The 404 closed that channel; declare on a new one.
  auto ch2 = (*conn)->open_channel();
  if (!ch2) {
    why = ch2.error().text;
    return State::kUnprepared;
  }
  client::ExchangeOptions durable;
  durable.durable = true;
  st = (*ch2)->exchange_declare(exchange, "topic", durable);
  close();
  if (st) {
    spdlog::info("guardian: declared {} (durable topic) at {}; publishing notices there", exchange,
                 where(endpoint));
    return State::kReady;
  }
  why = "cannot declare " + exchange + " at " + where(endpoint) + ": " + st.error().text;
  if (st.error().code == amqp::kAccessRefused) {
    spdlog::error(
        "guardian: {}; notices will not be published (grant {} configure permission "
        "on '^{}$' or declare it as a durable topic exchange, then restart)",
        why, endpoint.user, exchange);
    return State::kOff;
  }
  return State::kUnprepared;
}

NoticePublisher::State NoticePublisher::prepare() {
  std::string why;
  for (const auto& e : endpoints_) {
    state_ = try_prepare(e, why);
    if (state_ != State::kUnprepared) break;
  }
  if (state_ == State::kUnprepared) {
    next_prepare_ = std::chrono::steady_clock::now() + prepare_delay_;
    if (!said_unprepared_) {
      spdlog::warn("guardian: {}; notices are held and published once it answers (logged once)",
                   why);
      said_unprepared_ = true;
    }
    prepare_delay_ = std::min(prepare_delay_ * 2, kMaxPrepareDelay);
  } else {
    prepare_delay_ = seconds{5};
    said_unprepared_ = false;
  }
  if (state_ == State::kReady) release_held();
  if (state_ == State::kOff && !held_.empty()) {
    failed_ += held_.size();
    spdlog::warn("guardian: {} held notice(s) dropped", held_.size());
    held_.clear();
  }
  return state_;
}

Status NoticePublisher::publish(const guardian::OutgoingMessage& message) {
  if (state_ == State::kOff) return Error{0, "publishing is off (refused at start-up)"};
  if (pending() >= kMaxPending) {
    return Error{0, std::to_string(pending()) + " notices already wait for the broker"};
  }
  if (state_ == State::kUnprepared) {
    held_.push_back(message);
    return {};
  }
  send(message);
  return {};
}

void NoticePublisher::send(const guardian::OutgoingMessage& m) {
  PublishOptions po;
  po.persistent = m.persistent;
  po.properties.set_content_type(m.content_type);
  po.properties.set_content_encoding("utf-8");
  auto ticket = publisher_->send(m.exchange, m.routing_key, m.body, /*envelope=*/false, po);
  if (!ticket) {
    ++failed_;
    spdlog::warn("guardian: a notice was not published on {}: {}", m.exchange, ticket.error().text);
    return;
  }
  ++in_flight_;
}

void NoticePublisher::release_held() {
  while (!held_.empty() && state_ == State::kReady) {
    send(held_.front());
    held_.pop_front();
  }
}

void NoticePublisher::pump(milliseconds timeout) {
  if (state_ == State::kOff) return;
  if (state_ == State::kUnprepared && std::chrono::steady_clock::now() >= next_prepare_) {
    prepare();
  }
  if (state_ == State::kReady) publisher_->poll(timeout);
}

}  // namespace pulse::tools
