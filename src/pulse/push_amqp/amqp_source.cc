#include "pulse/push_amqp/amqp_source.h"

#include <algorithm>

#include "base/log.h"
#include "client/channel.h"

namespace pulse::push {

namespace {

constexpr std::chrono::milliseconds kMaxWait{5000};

}  // namespace

AmqpSource::AmqpSource(std::vector<client::ConnectionOptions> endpoints)
    : endpoints_(std::move(endpoints)) {
  for (auto& o : endpoints_) {
    o.connect_timeout = std::min(o.connect_timeout, kMaxWait);
    o.rpc_timeout = std::min(o.rpc_timeout, kMaxWait);
    // Nothing pumps an idle connection: heartbeats would only get it dropped.
    o.heartbeat = 0;
    if (o.connection_name.empty()) o.connection_name = "pulse push";
  }
}

AmqpSource::~AmqpSource() {
  for (auto& [vhost, link] : links_)
    if (link.connection && link.connection->is_open()) (void)link.connection->close();
}

Result<client::Channel*> AmqpSource::channel(const std::string& vhost) {
  Link& link = links_[vhost];
  if (link.connection && !link.connection->is_open()) {
    link.connection.reset();
    link.channel = nullptr;
  }
  if (!link.connection) {
    if (endpoints_.empty()) return Error{503, "no AMQP endpoint to read the queues from"};
    Error last{503, ""};
    for (size_t i = 0; i < endpoints_.size(); ++i) {
      auto o = endpoints_[(next_endpoint_ + i) % endpoints_.size()];
      o.vhost = vhost;
      auto c = client::Connection::open(o);
      if (c) {
        link.connection = std::move(*c);
        break;
      }
      last = Error{c.error().code == 403 ? uint16_t{403} : uint16_t{503},
                   o.host + ":" + std::to_string(o.port) + ": " + c.error().text};
    }
    next_endpoint_ = (next_endpoint_ + 1) % endpoints_.size();
    if (!link.connection) return last;
  }
  if (link.channel == nullptr) {
    auto ch = link.connection->open_channel();
    if (!ch) {
      link.connection.reset();
      return Error{503, ch.error().text};
    }
    link.channel = *ch;
    link.generation = ++generations_;
  }
  return link.channel;
}

Error AmqpSource::failed(const std::string& vhost, const Error& e) {
  Link& link = links_[vhost];
  if (link.connection && !link.connection->is_open()) {
    link.connection.reset();
    link.channel = nullptr;
  } else if (link.channel != nullptr) {
    (void)link.channel->close();  // closed by the server: frees it
    link.channel = nullptr;
  }
  const uint16_t code = e.code == 404 || e.code == 403 ? e.code : uint16_t{503};
  return Error{code, e.text};
}

Status AmqpSource::check(const std::string& vhost, const std::string& exchange) {
  auto ch = channel(vhost);
  if (!ch) {
    if (ch.error().text.find("NOT_ALLOWED") != std::string::npos ||
        ch.error().text.find("vhost") != std::string::npos)
      return Error{404, "no vhost '" + vhost + "': " + ch.error().text};
    return std::move(ch).error();
  }
  client::ExchangeOptions o;
  o.passive = true;
  if (auto s = (*ch)->exchange_declare(exchange, "topic", o); !s) {
    auto e = failed(vhost, s.error());
    if (e.code == 404) return Error{404, "no exchange '" + exchange + "' in vhost '" + vhost + "'"};
    return e;
  }
  return {};
}

Status AmqpSource::open(const Subscription& s) {
  auto ch = channel(s.vhost);
  if (!ch) return std::move(ch).error();
  client::QueueOptions q;
  q.durable = true;
  if (auto r = (*ch)->queue_declare(s.queue(), q); !r) return failed(s.vhost, r.error());
  if (auto b = (*ch)->queue_bind(s.queue(), s.exchange, s.topic); !b)
    return failed(s.vhost, b.error());
  return {};
}

Result<std::optional<PushMessage>> AmqpSource::next(const Subscription& s) {
  release(s);
  auto ch = channel(s.vhost);
  if (!ch) return std::move(ch).error();
  auto m = (*ch)->get(s.queue(), false);
  if (!m) return failed(s.vhost, m.error());
  if (!*m) return std::optional<PushMessage>();
  const client::Message& msg = **m;
  held_[s.id] = Held{s.vhost, links_[s.vhost].generation, msg.delivery_tag};
  PushMessage out;
  out.exchange = msg.exchange;
  out.routing_key = msg.routing_key;
  out.redelivered = msg.redelivered;
  out.properties = properties_json(msg.properties);
  out.body = msg.body;
  return std::optional<PushMessage>(std::move(out));
}

void AmqpSource::ack(const Subscription& s) {
  auto it = held_.find(s.id);
  if (it == held_.end()) return;
  const Held h = it->second;
  held_.erase(it);
  Link& link = links_[h.vhost];
  if (link.channel == nullptr || link.generation != h.generation) return;  // given back already
  if (auto st = link.channel->ack(h.tag); !st) {
    (void)failed(h.vhost, st.error());
    return;
  }
  if (auto st = link.connection->flush(); !st) (void)failed(h.vhost, st.error());
}

void AmqpSource::release(const Subscription& s) {
  auto it = held_.find(s.id);
  if (it == held_.end()) return;
  const Held h = it->second;
  held_.erase(it);
  Link& link = links_[h.vhost];
  if (link.channel == nullptr || link.generation != h.generation) return;
  if (auto st = link.channel->reject(h.tag, true); !st) {
    (void)failed(h.vhost, st.error());
    return;
  }
  (void)link.connection->flush();
}

Status AmqpSource::remove(const Subscription& s) {
  held_.erase(s.id);  // goes with the queue
  auto ch = channel(s.vhost);
  if (!ch) return std::move(ch).error();
  if (auto r = (*ch)->queue_delete(s.queue()); !r) return failed(s.vhost, r.error());
  return {};
}

std::optional<uint64_t> AmqpSource::depth(const Subscription& s) {
  auto ch = channel(s.vhost);
  if (!ch) return std::nullopt;
  client::QueueOptions q;
  q.passive = true;
  auto r = (*ch)->queue_declare(s.queue(), q);
  if (!r) {
    (void)failed(s.vhost, r.error());
    return std::nullopt;
  }
  return uint64_t{r->message_count} + (held_.contains(s.id) ? 1 : 0);
}

}  // namespace pulse::push
