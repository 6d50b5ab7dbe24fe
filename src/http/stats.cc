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
      next.emplace(q->id(), r);
    }
  }
  global_.update(broker.message_counters(), secs);
  std::unordered_map<std::string, CounterRates> vrates;
  for (const auto& [vname, vh] : broker.vhosts()) {
    CounterRates r;
    auto it = vhost_rates_.find(vname);
    if (it != vhost_rates_.end()) r = it->second;
    // A vhost's first sample has no interval to compute a rate over.
    r.update(vh->message_counters(), it != vhost_rates_.end() ? secs : 0);
    vrates.emplace(vname, r);
  }
  vhost_rates_ = std::move(vrates);
  broker_ = &broker;
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

const std::array<Stats::CounterField, 11> Stats::kCounterFields = {{
    {"publish", &broker::MessageCounters::publish},
    {"confirm", &broker::MessageCounters::confirm},
    {"return_unroutable", &broker::MessageCounters::return_unroutable},
    {"drop_unroutable", &broker::MessageCounters::drop_unroutable},
    {"deliver", &broker::MessageCounters::deliver},
    {"deliver_no_ack", &broker::MessageCounters::deliver_no_ack},
    {"get", &broker::MessageCounters::get},
    {"get_no_ack", &broker::MessageCounters::get_no_ack},
    {"get_empty", &broker::MessageCounters::get_empty},
    {"redeliver", &broker::MessageCounters::redeliver},
    {"ack", &broker::MessageCounters::ack},
}};

void Stats::CounterRates::update(const broker::MessageCounters& now, double secs) {
  for (size_t i = 0; i < kCounterFields.size(); ++i) {
    auto f = kCounterFields[i].field;
    // A vhost deleted and created again between two samples restarts from zero.
    rate[i] = secs > 0 && now.*f >= last.*f ? static_cast<double>(now.*f - last.*f) / secs : 0.0;
  }
  last = now;
}

json Stats::counters_json(const broker::MessageCounters& c, const CounterRates* r) const {
  json out = json::object();
  double deliver_get_rate = 0;
  for (size_t i = 0; i < kCounterFields.size(); ++i) {
    const auto& f = kCounterFields[i];
    // Rates are those of the last sampling interval; a counter the sample has not seen yet
    // (a vhost created since) reports 0.
    double rate = r ? r->rate[i] : 0.0;
    out[f.name] = c.*f.field;
    out[std::string(f.name) + "_details"] = {{"rate", rate}};
    if (f.field == &broker::MessageCounters::deliver ||
        f.field == &broker::MessageCounters::deliver_no_ack ||
        f.field == &broker::MessageCounters::get || f.field == &broker::MessageCounters::get_no_ack)
      deliver_get_rate += rate;
  }
  out["deliver_get"] = c.deliver + c.deliver_no_ack + c.get + c.get_no_ack;
  out["deliver_get_details"] = {{"rate", deliver_get_rate}};
  return out;
}

namespace {
bool any(const broker::MessageCounters& c) {
  for (const auto& f : Stats::kCounterFields)
    if (c.*f.field) return true;
  return false;
}
}  // namespace

json Stats::global_message_stats() const {
  if (broker_ == nullptr) return json::object();
  const broker::MessageCounters& c = broker_->message_counters();
  if (!any(c)) return json::object();
  return counters_json(c, &global_);
}

json Stats::vhost_message_stats(const broker::VHost& vh) const {
  const broker::MessageCounters& c = vh.message_counters();
  if (!any(c)) return nullptr;
  auto it = vhost_rates_.find(vh.name());
  return counters_json(c, it == vhost_rates_.end() ? nullptr : &it->second);
}

}  // namespace pulse::http
