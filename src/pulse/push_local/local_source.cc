#include "pulse/push_local/local_source.h"

#include "broker/queue.h"
#include "broker/vhost.h"

namespace pulse::push {

namespace {

Error missing(std::string text) {
  return Error{404, std::move(text)};
}

}  // namespace

LocalSource::~LocalSource() {
  for (auto& [id, h] : held_)
    if (auto q = h.queue.lock(); q && !q->deleted()) q->requeue(std::move(h.message));
}

Status LocalSource::check(const std::string& vhost, const std::string& exchange) {
  broker::VHost* vh = broker_.find_vhost(vhost);
  if (vh == nullptr) return missing("no vhost '" + vhost + "'");
  if (vh->find_exchange(exchange) == nullptr)
    return missing("no exchange '" + exchange + "' in vhost '" + vhost + "'");
  return {};
}

Status LocalSource::open(const Subscription& s) {
  broker::VHost* vh = broker_.find_vhost(s.vhost);
  if (vh == nullptr) return missing("no vhost '" + s.vhost + "'");
  broker::QueueDeclare d;
  d.name = s.queue();
  d.durable = true;
  auto q = vh->declare_queue(std::move(d));
  if (!q) return std::move(q).error();
  if (auto b = vh->bind_queue(s.queue(), s.exchange, s.topic, {}, 0); !b) {
    if (b.error().code == 404) return missing(b.error().text);
    return b;
  }
  return {};
}

Result<std::optional<PushMessage>> LocalSource::next(const Subscription& s) {
  broker::VHost* vh = broker_.find_vhost(s.vhost);
  if (vh == nullptr) return missing("no vhost '" + s.vhost + "'");
  broker::QueuePtr q = vh->find_queue(s.queue());
  if (!q || q->deleted()) return missing("no queue '" + s.queue() + "'");
  if (auto it = held_.find(s.id); it != held_.end()) {
    // Not asked for by the engine (it keeps what it took), but never take a second one.
    q->requeue(std::move(it->second.message));
    held_.erase(it);
  }
  auto m = q->get(false);
  if (!m) return std::optional<PushMessage>();
  PushMessage out;
  out.exchange = m->msg->exchange;
  out.routing_key = m->msg->routing_key;
  out.redelivered = m->redelivered;
  out.properties = properties_json(m->msg->properties());
  out.body = m->msg->body;
  held_.emplace(s.id, Held{q, std::move(*m)});
  return std::optional<PushMessage>(std::move(out));
}

void LocalSource::ack(const Subscription& s) {
  auto it = held_.find(s.id);
  if (it == held_.end()) return;
  if (auto q = it->second.queue.lock(); q && !q->deleted()) q->settle_acked(it->second.message);
  held_.erase(it);
}

void LocalSource::release(const Subscription& s) {
  auto it = held_.find(s.id);
  if (it == held_.end()) return;
  if (auto q = it->second.queue.lock(); q && !q->deleted()) {
    q->requeue(std::move(it->second.message));
  }
  held_.erase(it);
}

Status LocalSource::remove(const Subscription& s) {
  release(s);
  broker::VHost* vh = broker_.find_vhost(s.vhost);
  if (vh == nullptr) return missing("no vhost '" + s.vhost + "'");
  if (!vh->find_queue(s.queue())) return missing("no queue '" + s.queue() + "'");
  auto r = vh->delete_queue(s.queue(), false, false, 0);
  if (!r) return std::move(r).error();
  return {};
}

std::optional<uint64_t> LocalSource::depth(const Subscription& s) {
  broker::VHost* vh = broker_.find_vhost(s.vhost);
  if (vh == nullptr) return std::nullopt;
  broker::QueuePtr q = vh->find_queue(s.queue());
  if (!q) return std::nullopt;
  return q->message_count() + q->unacked_count();
}

}  // namespace pulse::push
