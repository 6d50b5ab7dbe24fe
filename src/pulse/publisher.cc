// The recovering publisher: every message is kept until its confirm (or its deadline), so a
// lost connection only means sending the unconfirmed ones again on the next.
#include "pulse/publisher.h"

#include <deque>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "client/channel.h"
#include "pulse/envelope.h"
#include "pulse/routing.h"
#include "pulse/session.h"

namespace pulse {

using detail::Clock;
using std::chrono::milliseconds;

namespace {

// The default exchange and amq.* exist everywhere and may not be declared.
bool predeclared(std::string_view exchange) {
  return exchange.empty() || exchange.starts_with("amq.");
}

// The exchange a channel error names ("... exchange 'x' in vhost '/'"), or "".
std::string exchange_named_in(const std::string& text) {
  constexpr std::string_view kMark = "exchange '";
  const size_t p = text.find(kMark);
  if (p == std::string::npos) return {};
  const size_t start = p + kMark.size();
  const size_t end = text.find("' in vhost", start);
  if (end == std::string::npos) return {};
  return text.substr(start, end - start);
}

// A nacked message waits a little before it goes again (a full queue needs time to drain).
milliseconds nack_delay(unsigned nacks) {
  return std::min(milliseconds(50) * (1u << std::min(nacks, 6u)), milliseconds(2000));
}

}  // namespace

struct Publisher::Impl {
  struct Pending {
    std::string exchange, routing_key, body, properties;  // properties encoded once
    Clock::time_point deadline;
    uint64_t seq = 0;  // publish sequence number on the current channel; 0 = not sent on it
    unsigned sends = 0;
    unsigned nacks = 0;
    std::optional<Error> error;  // why the last attempt did not succeed
  };

  explicit Impl(PublisherOptions o)
      : options(std::move(o)), session(options.recovery, nullptr, "pulse publisher") {}

  Result<uint64_t> submit(std::string_view exchange, std::string_view routing_key, std::string body,
                          const PublishOptions& po, bool await);
  // Pumps, reconnects and resends until done() holds; never waits past `limit`.
  void drive(const std::function<bool()>& done, Clock::time_point limit = Clock::time_point::max());
  Status setup(client::Connection& c);
  void requeue_all();
  void send_ready();
  Status send_one(uint64_t ticket, Pending& p);
  void handle_failure(const Error& e);
  void connection_lost(Error why);
  void process_confirms();
  void expire();
  void settle(uint64_t ticket, Status outcome);
  void fail_all(const Error& e);
  void deliver_outcomes();
  Clock::duration next_wait() const;
  client::Connection* conn() const { return session.connection(); }

  PublisherOptions options;
  detail::Session session;
  detail::Session::Setup setup_fn = [this](client::Connection& c) { return setup(c); };
  client::Channel* channel = nullptr;
  std::map<uint64_t, Pending> pending;  // by ticket: send order, which is also deadline order
  std::deque<uint64_t> to_send;         // tickets to send (again) on the current channel
  std::multimap<Clock::time_point, uint64_t> retry_at;  // nacked tickets and when to resend
  std::unordered_map<uint64_t, uint64_t> ticket_of_seq;
  std::vector<std::pair<uint64_t, bool>> confirms;  // (seq, ack) as the pump saw them
  std::unordered_set<std::string> declared;         // on the current connection
  std::optional<Clock::time_point> blocked_since;
  uint64_t next_ticket = 1;
  uint64_t awaited = 0;  // the ticket publish() waits for
  std::optional<Status> awaited_outcome;
  std::optional<Error> first_failure;
  std::vector<std::pair<uint64_t, Status>> outcomes;  // settled, not yet told to on_outcome
  bool delivering = false;
  OutcomeHandler on_outcome;
  PublisherStats stats;
};

Status Publisher::Impl::setup(client::Connection& c) {
  auto ch = c.open_channel();
  if (!ch) return std::move(ch).error();
  if (auto st = (*ch)->confirm_select(); !st) return st;
  (*ch)->on_confirm([this](uint64_t first, uint64_t last, bool ack) {
    for (uint64_t s = first; s <= last; ++s) confirms.emplace_back(s, ack);
  });
  channel = *ch;
  declared.clear();
  blocked_since.reset();
  requeue_all();
  return {};
}

void Publisher::Impl::requeue_all() {
  process_confirms();
  to_send.clear();
  retry_at.clear();
  ticket_of_seq.clear();
  for (auto& [ticket, p] : pending) {
    p.seq = 0;
    to_send.push_back(ticket);
  }
}

void Publisher::Impl::process_confirms() {
  const auto now = Clock::now();
  for (const auto& [seq, ack] : confirms) {
    auto s = ticket_of_seq.find(seq);
    if (s == ticket_of_seq.end()) continue;
    const uint64_t ticket = s->second;
    ticket_of_seq.erase(s);
    auto it = pending.find(ticket);
    if (it == pending.end()) continue;
    if (ack) {
      settle(ticket, {});
      continue;
    }
    Pending& p = it->second;
    p.seq = 0;
    ++p.nacks;
    p.error = Error{0, "the broker nacked the message"};
    retry_at.emplace(now + nack_delay(p.nacks), ticket);
  }
  confirms.clear();
}

void Publisher::Impl::settle(uint64_t ticket, Status outcome) {
  if (pending.erase(ticket) == 0) return;
  if (outcome) {
    ++stats.confirmed;
  } else {
    ++stats.failed;
    if (!first_failure) first_failure = outcome.error();
  }
  if (ticket == awaited) awaited_outcome = outcome;
  if (on_outcome) outcomes.emplace_back(ticket, std::move(outcome));
}

void Publisher::Impl::deliver_outcomes() {
  // Outside every loop over the queues: the handler may send() again.
  if (delivering) return;
  delivering = true;
  while (!outcomes.empty()) {
    auto batch = std::move(outcomes);
    outcomes.clear();
    for (const auto& [ticket, st] : batch) on_outcome(ticket, st);
  }
  delivering = false;
}

void Publisher::Impl::expire() {
  const auto now = Clock::now();
  while (!pending.empty() && pending.begin()->second.deadline <= now) {
    const Pending& p = pending.begin()->second;
    const Error* why = p.error                ? &*p.error
                       : session.last_error() ? &*session.last_error()
                                              : nullptr;
    std::string text = "not confirmed within " + std::to_string(options.deadline.count()) + " ms";
    if (why) text += ": " + why->text;
    settle(pending.begin()->first, Error{why ? why->code : uint16_t{0}, std::move(text)});
  }
}

void Publisher::Impl::fail_all(const Error& e) {
  while (!pending.empty()) settle(pending.begin()->first, e);
  to_send.clear();
  retry_at.clear();
  ticket_of_seq.clear();
}

void Publisher::Impl::connection_lost(Error why) {
  process_confirms();
  channel = nullptr;
  declared.clear();
  blocked_since.reset();
  session.lost(std::move(why));
}

// The connection or the channel failed while sending or pumping. A refusal that names an
// exchange (404 no such exchange, 403 not allowed, 406 wrong type) fails that exchange's
// messages for good and the rest go again on a new channel; anything else is a lost
// connection.
void Publisher::Impl::handle_failure(const Error& e) {
  process_confirms();
  if (!conn() || !conn()->is_open()) {
    const Error* dead = conn() ? conn()->error() : nullptr;
    return connection_lost(dead ? *dead : e);
  }
  const Error why = channel && channel->error() ? *channel->error() : e;
  const std::string exchange = detail::is_refusal(why) ? exchange_named_in(why.text) : "";
  bool failed_some = false;
  if (!exchange.empty()) {
    for (auto it = pending.begin(); it != pending.end();) {
      const uint64_t ticket = it->first;
      const bool culprit = it->second.exchange == exchange;
      ++it;
      if (culprit) {
        settle(ticket, why);
        failed_some = true;
      }
    }
  }
  if (!failed_some) {
    channel = nullptr;
    declared.clear();
    return session.lost(why, /*graceful=*/true);
  }
  if (channel) (void)channel->close();  // frees the closed channel's id
  channel = nullptr;
  const auto declared_before = declared;
  if (auto st = setup(*conn()); !st) return handle_failure(st.error());
  declared = declared_before;  // still declared: they belong to the connection
}

Status Publisher::Impl::send_one(uint64_t ticket, Pending& p) {
  if (options.declare_exchanges && !predeclared(p.exchange) && !declared.count(p.exchange)) {
    client::ExchangeOptions eo;
    eo.durable = true;
    if (auto st = channel->exchange_declare(p.exchange, "topic", eo); !st) return st;
    declared.insert(p.exchange);
  }
  auto seq = channel->publish_encoded(p.exchange, p.routing_key, p.body, p.properties);
  if (!seq) return std::move(seq).error();
  p.seq = *seq;
  ticket_of_seq[*seq] = ticket;
  if (p.sends++ > 0) ++stats.republished;
  return {};
}

void Publisher::Impl::send_ready() {
  const auto now = Clock::now();
  while (!retry_at.empty() && retry_at.begin()->first <= now) {
    to_send.push_back(retry_at.begin()->second);
    retry_at.erase(retry_at.begin());
  }
  while (!to_send.empty()) {
    // While the broker blocks us it does not read: hold messages back instead of filling the
    // socket (which would stall the writer beyond blocked_timeout).
    if (!channel || !session.is_open() || conn()->blocked()) return;
    const uint64_t ticket = to_send.front();
    auto it = pending.find(ticket);
    if (it == pending.end() || it->second.seq != 0) {
      to_send.pop_front();
      continue;
    }
    if (auto st = send_one(ticket, it->second); !st) return handle_failure(st.error());
    to_send.pop_front();
  }
}

Clock::duration Publisher::Impl::next_wait() const {
  const auto now = Clock::now();
  Clock::duration wait = detail::kSlice;
  if (!pending.empty()) wait = std::min(wait, pending.begin()->second.deadline - now);
  if (!retry_at.empty()) wait = std::min(wait, retry_at.begin()->first - now);
  if (blocked_since) {
    wait = std::min(wait, *blocked_since + options.recovery.blocked_timeout - now);
  }
  return std::max(wait, Clock::duration::zero());
}

void Publisher::Impl::drive(const std::function<bool()>& done, Clock::time_point limit) {
  for (;;) {
    process_confirms();
    expire();
    deliver_outcomes();
    if (done()) return;
    if (!session.is_open()) {
      if (channel) connection_lost(conn() ? conn()->closed_error() : Error{0, "connection lost"});
      const auto until =
          pending.empty() ? limit : std::min(limit, pending.begin()->second.deadline);
      auto r = session.ensure_open(until, setup_fn);
      if (!r) fail_all(r.error());
      continue;
    }
    send_ready();
    if (!session.is_open()) continue;
    if (channel && !channel->is_open()) {
      handle_failure(*channel->error());
      continue;
    }
    const auto now = Clock::now();
    if (conn()->blocked()) {
      if (!blocked_since) blocked_since = now;
      if (now - *blocked_since >= options.recovery.blocked_timeout) {
        connection_lost(Error{0, "connection blocked by the broker for longer than " +
                                     std::to_string(options.recovery.blocked_timeout.count()) +
                                     " ms (" + conn()->blocked_reason() + ")"});
        continue;
      }
    } else {
      blocked_since.reset();
    }
    const auto wait = std::chrono::ceil<milliseconds>(
        std::min(next_wait(), std::max(limit - now, Clock::duration::zero())));
    if (auto st = conn()->pump(wait); !st) {
      handle_failure(st.error());
    } else if (channel && !channel->is_open()) {
      handle_failure(*channel->error());
    }
  }
}

Result<uint64_t> Publisher::Impl::submit(std::string_view exchange, std::string_view routing_key,
                                         std::string body, const PublishOptions& po, bool await) {
  if (auto st = check_routing_key(routing_key); !st) {
    ++stats.failed;
    if (!first_failure) first_failure = st.error();
    return std::move(st).error();
  }
  amqp::BasicProperties props = po.properties;
  if (!props.has(amqp::BasicProperties::kContentType)) {
    // JSON in UTF-8, said as kombu (mozillapulse) and Taskcluster say it.
    props.set_content_type("application/json");
    if (!props.has(amqp::BasicProperties::kContentEncoding)) props.set_content_encoding("utf-8");
  }
  props.set_delivery_mode(po.persistent ? 2 : 1);
  if (!po.routes.empty()) {
    amqp::FieldArray cc;
    for (auto& r : cc_routes(po.routes)) cc.emplace_back(std::move(r));
    amqp::FieldTable headers = props.headers;
    headers.emplace_back("CC", std::move(cc));
    props.set_headers(headers);
  }
  const uint64_t ticket = next_ticket++;
  if (await) {
    awaited = ticket;
    awaited_outcome.reset();
  }
  Pending p;
  p.exchange = std::string(exchange);
  p.routing_key = std::string(routing_key);
  p.body = std::move(body);
  p.properties = client::Channel::encode_properties(props);
  p.deadline = Clock::now() + options.deadline;
  pending.emplace(ticket, std::move(p));
  to_send.push_back(ticket);
  ++stats.published;
  if (!session.is_open()) {
    // One attempt when one is due; the waiting happens in drive().
    if (auto r = session.ensure_open(Clock::now(), setup_fn); !r) fail_all(r.error());
  }
  send_ready();
  process_confirms();
  deliver_outcomes();
  if (pending.size() >= std::max<size_t>(options.max_in_flight, 1)) {
    drive([&] { return pending.size() < std::max<size_t>(options.max_in_flight, 1); });
  }
  return ticket;
}

Publisher::Publisher(PublisherOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

Publisher::~Publisher() {
  close();
}

Status Publisher::publish(std::string_view exchange, std::string_view routing_key,
                          const nlohmann::json& payload, const PublishOptions& options) {
  return publish_body(exchange, routing_key,
                      build_envelope(payload, exchange, routing_key, options.extra_meta), options);
}

Status Publisher::publish_body(std::string_view exchange, std::string_view routing_key,
                               std::string_view body, const PublishOptions& options) {
  auto ticket = impl_->submit(exchange, routing_key, std::string(body), options, true);
  if (!ticket) return std::move(ticket).error();
  impl_->drive([this] { return impl_->awaited_outcome.has_value(); });
  Status outcome = std::move(*impl_->awaited_outcome);
  impl_->awaited = 0;
  impl_->awaited_outcome.reset();
  return outcome;
}

void Publisher::on_outcome(OutcomeHandler h) {
  impl_->on_outcome = std::move(h);
}

Result<uint64_t> Publisher::send(std::string_view exchange, std::string_view routing_key,
                                 std::string_view body, bool envelope,
                                 const PublishOptions& options) {
  std::string b;
  if (envelope) {
    auto payload = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (payload.is_discarded()) return Error{0, "the payload is not JSON"};
    b = build_envelope(payload, exchange, routing_key, options.extra_meta);
  } else {
    b = std::string(body);
  }
  return impl_->submit(exchange, routing_key, std::move(b), options, false);
}

Status Publisher::wait() {
  impl_->drive([this] { return impl_->pending.empty(); });
  if (impl_->first_failure) return *impl_->first_failure;
  return {};
}

void Publisher::poll(milliseconds timeout) {
  const auto limit = Clock::now() + timeout;
  bool first = true;  // one pass at least, so that poll(0) pumps once
  impl_->drive(
      [&] {
        const bool done = !first && Clock::now() >= limit;
        first = false;
        return done;
      },
      limit);
}

void Publisher::close() {
  impl_->fail_all(Error{0, "the publisher was closed before the message was confirmed"});
  impl_->deliver_outcomes();
  impl_->channel = nullptr;
  impl_->session.close();
}

const PublisherStats& Publisher::stats() const {
  impl_->stats.reconnects = impl_->session.reconnects();
  return impl_->stats;
}

}  // namespace pulse
