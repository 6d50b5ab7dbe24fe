// The recovering publisher's API: messages are prepared (envelope, properties, routing-key
// check) and handed to the engine (publisher_impl.cc), which keeps each until its confirm or its
// deadline, so a lost connection only means sending the unconfirmed ones again on the next.
#include "pulse/envelope.h"
#include "pulse/publisher_impl.h"
#include "pulse/routing.h"

namespace pulse {

using detail::Clock;
using std::chrono::milliseconds;

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
  // Restored on return (a handler may send() from inside an outcome it is told).
  struct Submitting {
    uint64_t& slot;
    uint64_t before;
    ~Submitting() { slot = before; }
  } submitting_guard{submitting, submitting};
  submitting = ticket;
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
  // The handler may refer to state that is already gone; close() tells the outcomes.
  impl_->on_outcome = nullptr;
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
