// The recovering consumer: one queue, re-declared, re-bound and re-consumed on every new
// connection; handler failures requeue the message until max_attempts, then give it up.
#include "pulse/consumer.h"

#include <algorithm>
#include <exception>
#include <unordered_map>

#include "client/channel.h"
#include "pulse/routing.h"
#include "pulse/session.h"

namespace pulse {

using detail::Clock;
using std::chrono::milliseconds;

namespace {

// Failure counts are kept per message; a bound keeps messages that failed here and were then
// settled elsewhere (another consumer of the queue) from growing the map for ever.
constexpr size_t kMaxTracked = 100000;

std::string attempt_key(const client::Delivery& d) {
  if (d.properties && d.properties->has(amqp::BasicProperties::kMessageId) &&
      !d.properties->message_id.empty()) {
    return "id:" + d.properties->message_id;
  }
  std::string key(d.exchange);
  key += '\0';
  key += d.routing_key;
  key += '\0';
  key += std::to_string(std::hash<std::string_view>{}(d.body));
  return key;
}

std::string default_user(const ConsumerOptions& o) {
  if (!o.user.empty()) return o.user;
  return o.recovery.endpoints.empty() ? std::string() : o.recovery.endpoints.front().user;
}

}  // namespace

struct Consumer::Impl {
  Impl(ConsumerOptions o, MessageHandler h)
      : options(std::move(o)),
        handler(std::move(h)),
        queue(consumer_queue_name(default_user(options), options.applabel)),
        session(options.recovery, &stop_flag, "pulse consumer " + queue) {}

  Status validate() const;
  Status setup(client::Connection& c);
  void on_delivery(const client::Delivery& d);
  void end_batch();
  Status settle(const DeliveryRef& ref, bool ack);

  ConsumerOptions options;
  MessageHandler handler;
  std::string queue;
  std::atomic<bool> stop_flag{false};
  detail::Session session;
  client::Channel* channel = nullptr;
  bool cancelled = false;   // the server cancelled our consumer
  uint64_t batch_mark = 0;  // stats.delivered when on_batch_end was last called
  // Handled messages are acked after on_batch_end returned (what the application wrote out is
  // flushed before the broker forgets them): the highest such delivery tag, its channel's
  // generation (a tag means nothing on a later channel) and how many wait.
  uint64_t ack_through = 0;
  uint64_t ack_count = 0;
  uint64_t generation = 0, ack_generation = 0;
  std::unordered_map<std::string, unsigned> attempts;
  std::function<void(const Received&, const Error&)> on_give_up;
  ConsumerStats stats;
};

Status Consumer::Impl::validate() const {
  if (options.recovery.endpoints.empty()) return Error{0, "no endpoint to connect to"};
  if (options.bindings.empty()) return Error{0, "a consumer needs at least one binding"};
  if (options.durable && options.applabel.empty()) {
    return Error{0, "a durable consumer queue needs an applabel"};
  }
  if (options.max_attempts == 0) return Error{0, "max_attempts must be at least 1"};
  for (const auto& b : options.bindings) {
    if (b.exchange.empty()) return Error{0, "a binding needs an exchange"};
  }
  return {};
}

Status Consumer::Impl::setup(client::Connection& c) {
  channel = nullptr;
  cancelled = false;
  auto ch = c.open_channel();
  if (!ch) return std::move(ch).error();
  ++generation;
  client::Channel& chan = **ch;
  std::vector<std::string> seen;
  for (const auto& b : options.bindings) {
    if (std::find(seen.begin(), seen.end(), b.exchange) != seen.end()) continue;
    seen.push_back(b.exchange);
    client::ExchangeOptions passive;
    passive.passive = true;
    if (auto st = chan.exchange_declare(b.exchange, "topic", passive); !st) return st;
  }
  client::QueueOptions qo;
  qo.durable = options.durable;
  qo.auto_delete = !options.durable;
  if (options.expires) qo.arguments.emplace_back("x-expires", int64_t{options.expires->count()});
  if (!options.dead_letter_exchange.empty()) {
    qo.arguments.emplace_back("x-dead-letter-exchange", options.dead_letter_exchange);
  }
  if (auto q = chan.queue_declare(queue, qo); !q) return std::move(q).error();
  for (const auto& b : options.bindings) {
    if (auto st = chan.queue_bind(queue, b.exchange, b.topic); !st) return st;
  }
  if (auto st = chan.qos(options.prefetch); !st) return st;
  chan.on_cancel([this](std::string_view) { cancelled = true; });
  auto tag = chan.consume(queue, [this](const client::Delivery& d) { on_delivery(d); });
  if (!tag) return std::move(tag).error();
  channel = &chan;
  return {};
}

void Consumer::Impl::end_batch() {
  if (stats.delivered != batch_mark) {
    batch_mark = stats.delivered;
    if (options.on_batch_end) options.on_batch_end();
  }
  if (ack_count == 0) return;
  // One multiple ack settles the batch: every delivery up to ack_through was handled in order,
  // and those that failed were nacked (or given up) already, so only handled ones remain.
  // After a lost connection the broker redelivers them instead.
  if (ack_generation == generation && channel && channel->is_open() &&
      channel->ack(ack_through, /*multiple=*/true) && channel->connection().flush()) {
    stats.acked += ack_count;
  }
  ack_through = ack_count = 0;
}

void Consumer::Impl::on_delivery(const client::Delivery& d) {
  // After stop() the rest of a read's deliveries go back to the queue unseen, so a consumer
  // stopped after N messages handles exactly N.
  if (stop_flag.load(std::memory_order_relaxed)) {
    (void)d.channel->nack(d.delivery_tag, false, /*requeue=*/true);
    return;
  }
  ++stats.delivered;
  auto env = parse_envelope(d.body);
  Received r{env ? &*env : nullptr, env ? std::string_view() : env.error().text, d,
             DeliveryRef{generation, d.delivery_tag}};
  Status st;
  try {
    st = handler(r);
  } catch (const std::exception& e) {
    st = Error{0, std::string("handler threw: ") + e.what()};
  } catch (...) {
    st = Error{0, "handler threw a non-standard exception"};
  }
  if (st) {
    if (!attempts.empty()) attempts.erase(attempt_key(d));
    if (options.manual_ack) return;
    ack_through = d.delivery_tag;
    ack_generation = generation;
    ++ack_count;
    return;
  }
  const std::string key = attempt_key(d);
  if (attempts.size() >= kMaxTracked && !attempts.count(key)) attempts.clear();
  if (++attempts[key] < options.max_attempts) {
    ++stats.retried;
    (void)d.channel->nack(d.delivery_tag, false, /*requeue=*/true);
    return;
  }
  attempts.erase(key);
  ++stats.given_up;
  if (on_give_up) {
    try {
      on_give_up(r, st.error());
    } catch (...) {
      // A failing log hook must not take the message with it: it is settled below anyway.
    }
  }
  if (options.give_up == GiveUp::kLog) {
    (void)d.channel->ack(d.delivery_tag);
  } else {
    (void)d.channel->nack(d.delivery_tag, false, /*requeue=*/false);
  }
}

Consumer::Consumer(ConsumerOptions options, MessageHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

Consumer::~Consumer() {
  // The handler may refer to state that is already gone: deliveries that arrive while the
  // connection closes go back to the queue unseen.
  impl_->stop_flag.store(true, std::memory_order_relaxed);
  impl_->channel = nullptr;
  impl_->session.close();
}

void Consumer::on_give_up(std::function<void(const Received&, const Error&)> h) {
  impl_->on_give_up = std::move(h);
}

Status Consumer::run() {
  return run_for(milliseconds::max());
}

Status Consumer::run_for(milliseconds timeout) {
  Impl& m = *impl_;
  if (auto st = m.validate(); !st) return st;
  const auto start = Clock::now();
  const auto deadline =
      timeout >= std::chrono::duration_cast<milliseconds>(Clock::time_point::max() - start)
          ? Clock::time_point::max()
          : start + timeout;
  const detail::Session::Setup setup = [&m](client::Connection& c) { return m.setup(c); };
  for (;;) {
    // Deliveries also arrive inside the synchronous calls of a (re)start, not only in pump().
    m.end_batch();
    if (m.stop_flag.exchange(false)) return {};
    const auto now = Clock::now();
    if (now >= deadline) return {};
    if (!m.session.is_open()) {
      m.channel = nullptr;
      auto r = m.session.ensure_open(deadline, setup);
      if (!r) return std::move(r).error();
      continue;
    }
    const auto slice = std::min<Clock::duration>(detail::kSlice, deadline - now);
    Status st = m.session.connection()->pump(std::chrono::ceil<milliseconds>(slice));
    if (!st) {
      m.channel = nullptr;
      m.session.lost(st.error());
    } else if (m.cancelled) {
      m.channel = nullptr;
      m.session.lost(Error{0, "the server cancelled the consumer of " + m.queue}, true);
    } else if (m.channel && !m.channel->is_open()) {
      const Error why = *m.channel->error();
      m.channel = nullptr;
      m.session.lost(why, true);
    }
  }
}

void Consumer::stop() {
  impl_->stop_flag.store(true, std::memory_order_relaxed);
}

Status Consumer::Impl::settle(const DeliveryRef& ref, bool ack) {
  if (ref.generation != generation || !channel || !channel->is_open()) {
    return Error{0, "delivery " + std::to_string(ref.delivery_tag) +
                        " came on a connection since lost; the broker delivers it again"};
  }
  const Status sent = ack ? channel->ack(ref.delivery_tag, /*multiple=*/false)
                          : channel->nack(ref.delivery_tag, false, /*requeue=*/true);
  if (!sent || !channel->connection().flush()) {
    return Error{0, "cannot settle delivery " + std::to_string(ref.delivery_tag)};
  }
  if (ack) ++stats.acked;
  return {};
}

Status Consumer::ack(const DeliveryRef& ref) {
  return impl_->settle(ref, true);
}

Status Consumer::requeue(const DeliveryRef& ref) {
  return impl_->settle(ref, false);
}

const std::string& Consumer::queue_name() const {
  return impl_->queue;
}

const ConsumerStats& Consumer::stats() const {
  impl_->stats.reconnects = impl_->session.reconnects();
  return impl_->stats;
}

}  // namespace pulse
