#include "http/stats.h"

namespace pulse::http {

using nlohmann::json;

void QueueTotals::add(const broker::Queue& q) {
  ready += q.message_count();
  unacked += q.unacked_count();
  messages += q.message_count() + q.unacked_count();
}

json QueueTotals::to_json() const {
  json rate = {{"rate", 0.0}};
  return {{"messages", messages},
          {"messages_details", rate},
          {"messages_ready", ready},
          {"messages_ready_details", rate},
          {"messages_unacknowledged", unacked},
          {"messages_unacknowledged_details", rate}};
}

namespace {

json stats_json(const broker::QueueCounters& c, double publish, double deliver,
                double deliver_no_ack, double get, double get_no_ack, double ack,
                double redeliver) {
  auto r = [](double v) { return json{{"rate", v}}; };
  return {{"publish", c.publish},
          {"publish_details", r(publish)},
          {"deliver", c.deliver},
          {"deliver_details", r(deliver)},
          {"deliver_no_ack", c.deliver_no_ack},
          {"deliver_no_ack_details", r(deliver_no_ack)},
          {"get", c.get},
          {"get_details", r(get)},
          {"get_no_ack", c.get_no_ack},
          {"get_no_ack_details", r(get_no_ack)},
          {"deliver_get", c.deliver + c.deliver_no_ack + c.get + c.get_no_ack},
          {"deliver_get_details", r(deliver + deliver_no_ack + get + get_no_ack)},
          {"ack", c.ack},
          {"ack_details", r(ack)},
          {"redeliver", c.redeliver},
          {"redeliver_details", r(redeliver)},
          {"get_empty", 0},
          {"get_empty_details", r(0)}};
}

bool any(const broker::QueueCounters& c) {
  return c.publish || c.deliver || c.deliver_no_ack || c.get || c.get_no_ack || c.ack ||
         c.redeliver;
}

}  // namespace

void Stats::sample(broker::Broker& broker, std::chrono::steady_clock::time_point now) {
  double secs = last_sample_ == std::chrono::steady_clock::time_point{}
                    ? 0
                    : std::chrono::duration<double>(now - last_sample_).count();
  last_sample_ = now;
  std::unordered_map<uint64_t, Rates> next;
  next.reserve(rates_.size());
  broker::QueueCounters total;
  for (const auto& [vname, vh] : broker.vhosts()) {
    for (const auto& [qname, q] : vh->queues()) {
      const broker::QueueCounters& c = q->counters();
      Rates r;
      r.last = c;
      if (auto it = rates_.find(q->id()); it != rates_.end() && secs > 0) {
        const auto& p = it->second.last;
        r.publish = (c.publish - p.publish) / secs;
        r.deliver = (c.deliver - p.deliver) / secs;
        r.deliver_no_ack = (c.deliver_no_ack - p.deliver_no_ack) / secs;
        r.get = (c.get - p.get) / secs;
        r.get_no_ack = (c.get_no_ack - p.get_no_ack) / secs;
        r.ack = (c.ack - p.ack) / secs;
        r.redeliver = (c.redeliver - p.redeliver) / secs;
      }
      total.publish += c.publish;
      total.deliver += c.deliver;
      total.deliver_no_ack += c.deliver_no_ack;
      total.get += c.get;
      total.get_no_ack += c.get_no_ack;
      total.ack += c.ack;
      total.redeliver += c.redeliver;
      next.emplace(q->id(), r);
    }
  }
  Rates g;
  for (const auto& [id, r] : next) {
    g.publish += r.publish;
    g.deliver += r.deliver;
    g.deliver_no_ack += r.deliver_no_ack;
    g.get += r.get;
    g.get_no_ack += r.get_no_ack;
    g.ack += r.ack;
    g.redeliver += r.redeliver;
  }
  g.last = total;
  global_rates_ = g;
  global_ = total;
  rates_ = std::move(next);
}

json Stats::queue_message_stats(const broker::Queue& q) const {
  const broker::QueueCounters& c = q.counters();
  if (!any(c)) return nullptr;
  auto it = rates_.find(q.id());
  if (it == rates_.end()) return stats_json(c, 0, 0, 0, 0, 0, 0, 0);
  const Rates& r = it->second;
  return stats_json(c, r.publish, r.deliver, r.deliver_no_ack, r.get, r.get_no_ack, r.ack,
                    r.redeliver);
}

json Stats::global_message_stats() const {
  if (!any(global_)) return json::object();
  const Rates& r = global_rates_;
  return stats_json(global_, r.publish, r.deliver, r.deliver_no_ack, r.get, r.get_no_ack, r.ack,
                    r.redeliver);
}

}  // namespace pulse::http
