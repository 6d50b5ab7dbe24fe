// The Publisher's engine: sending, confirms, deadlines, and what a failure means for the
// messages in flight (resend on a new channel or connection, or fail them for good).
#include "pulse/publisher_impl.h"
#include "amqp/generated/constants.h"

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
  std::vector<std::pair<uint64_t, Status>> held;
  while (!outcomes.empty()) {
    auto batch = std::move(outcomes);
    outcomes.clear();
    for (auto& [ticket, st] : batch) {
      if (ticket == submitting) {
        held.emplace_back(ticket, std::move(st));
      } else {
        on_outcome(ticket, st);
      }
    }
  }
  outcomes = std::move(held);
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
  // An exchange we declared on this connection and that is gone now (deleted meanwhile) is
  // declared again on the new channel rather than failing its messages.
  const bool redeclare = why.code == amqp::kNotFound && declared.erase(exchange) > 0;
  bool attributed = redeclare;
  if (!exchange.empty() && !redeclare) {
    for (auto it = pending.begin(); it != pending.end();) {
      const uint64_t ticket = it->first;
      const bool culprit = it->second.exchange == exchange;
      ++it;
      if (culprit) {
        settle(ticket, why);
        attributed = true;
      }
    }
  }
  if (!attributed) {
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
    // Only a block that holds messages back counts: an idle publisher may wait it out.
    if (conn()->blocked() && !pending.empty()) {
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

}  // namespace pulse
