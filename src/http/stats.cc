#include "http/stats.h"

namespace pulse::http {

using nlohmann::json;

void QueueTotals::add(const broker::Queue& q) {
  ++queues;
  consumers += q.consumer_count();
  ready += q.message_count();
  unacked += q.unacked_count();
  messages += q.message_count() + q.unacked_count();
}

LengthRates& LengthRates::operator+=(const LengthRates& o) {
  messages += o.messages;
  ready += o.ready;
  unacked += o.unacked;
  return *this;
}

json QueueTotals::to_json(const LengthRates& r) const {
  return {{"messages", messages},
          {"messages_details", {{"rate", r.messages}}},
          {"messages_ready", ready},
          {"messages_ready_details", {{"rate", r.ready}}},
          {"messages_unacknowledged", unacked},
          {"messages_unacknowledged_details", {{"rate", r.unacked}}}};
}

void sum_queues_sliced(Scheduler& s, broker::Broker& broker, VhostWalk::Keep keep,
                       std::function<void(std::map<std::string, QueueTotals>&)> done) {
  struct Sum {
    VhostWalk walk;
    std::map<std::string, QueueTotals> totals;
    QueueTotals* current = nullptr;  // of the vhost named current_vhost
    std::string current_vhost;
  };
  auto sum = std::make_shared<Sum>(Sum{VhostWalk(std::move(keep)), {}, nullptr, {}});
  run_sliced(
      s,
      [sum, &broker] {
        return sum->walk.step(
            broker, [](broker::VHost & vh) -> const auto& { return vh.queues(); },
            [&](broker::VHost& vh, const std::string&, const broker::QueuePtr& q) {
              if (sum->current == nullptr || sum->current_vhost != vh.name()) {
                sum->current = &sum->totals[vh.name()];
                sum->current_vhost = vh.name();
              }
              sum->current->add(*q);
            });
      },
      [sum, done = std::move(done)] { done(sum->totals); });
}

namespace {

using Clock = std::chrono::steady_clock;

double rate_of(uint64_t now, uint64_t before, double secs) {
  // A counter that went back (an object deleted and created again) restarts from zero.
  return secs > 0 && now >= before ? static_cast<double>(now - before) / secs : 0.0;
}

bool any(const broker::QueueCounters& c) {
  return c.publish || c.deliver || c.deliver_no_ack || c.get || c.get_no_ack || c.ack ||
         c.redeliver;
}

}  // namespace

const std::array<const char*, 7> Stats::kQueueFieldNames = {
    "publish", "deliver", "deliver_no_ack", "get", "get_no_ack", "ack", "redeliver"};

const std::array<uint64_t broker::QueueCounters::*, 7> Stats::kQueueFields = {
    &broker::QueueCounters::publish,        &broker::QueueCounters::deliver,
    &broker::QueueCounters::deliver_no_ack, &broker::QueueCounters::get,
    &broker::QueueCounters::get_no_ack,     &broker::QueueCounters::ack,
    &broker::QueueCounters::redeliver};

struct Stats::Pass {
  VhostWalk walk{[](const std::string&) { return true; }};
  VhostWalk exchange_walk{[](const std::string&) { return true; }};
  int phase = 0;  // queues, exchanges, pruning queues, pruning exchanges
  std::unordered_map<uint64_t, Rates>::iterator prune_at;
  std::unordered_map<std::string, ExchangeRates>::iterator prune_exchange_at;
  std::vector<std::function<void()>> done;
  std::unordered_map<std::string, QueueTotals> lengths;  // by vhost, summed by the queue walk
  QueueTotals* current = nullptr;  // lengths' entry of current_vhost (a node map: stable)
  std::string current_vhost;
};

void Stats::sample(Scheduler& s, broker::Broker& broker, std::function<void()> done) {
  if (pass_) {
    if (done) pass_->done.push_back(std::move(done));
    return;
  }
  pass_ = std::make_shared<Pass>();
  if (done) pass_->done.push_back(std::move(done));
  begin_pass(broker, Clock::now());
  run_sliced(
      s,
      [this, &broker] {
        Pass& p = *pass_;
        if (p.phase == 0) {
          if (sample_next_queue(broker)) return true;
          record_totals(broker, p.lengths);
          p.phase = 1;
        }
        if (p.phase == 1) {
          if (sample_next_exchange(broker)) return true;
          p.phase = 2;
          p.prune_at = rates_.begin();
          p.prune_exchange_at = exchange_rates_.begin();
        }
        return prune_next();
      },
      [this] {
        auto pass = std::move(pass_);
        for (auto& d : pass->done) d();
      });
}

// The broker's and the vhosts' counters: a few per vhost, taken at once.
void Stats::begin_pass(broker::Broker& broker, Clock::time_point now) {
  double secs = last_sample_ == Clock::time_point{}
                    ? 0
                    : std::chrono::duration<double>(now - last_sample_).count();
  last_sample_ = now;
  ++passes_;
  global_.update(broker.message_counters(), secs);
  const broker::NodeCounters& nc = broker.node_counters();
  for (size_t i = 0; i < kChurnFields.size(); ++i)
    node_rates_[i] = rate_of(nc.*kChurnFields[i].field, node_last_.*kChurnFields[i].field, secs);
  node_last_ = nc;
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
}

// One queue, resuming by (vhost, name) after the last one, so queues that come and go between
// slices are safe; its rate is over the time since its own previous sample.
bool Stats::sample_next_queue(broker::Broker& broker) {
  return pass_->walk.step(
      broker, [](broker::VHost & vh) -> const auto& { return vh.queues(); },
      [&](broker::VHost& vh, const std::string&, const broker::QueuePtr& q) {
        const auto now = Clock::now();
        Pass& p = *pass_;
        if (p.current == nullptr || p.current_vhost != vh.name()) {
          p.current = &p.lengths[vh.name()];
          p.current_vhost = vh.name();
        }
        p.current->add(*q);
        auto [it, fresh] = rates_.try_emplace(q->id());
        Rates& r = it->second;
        const broker::QueueCounters& c = q->counters();
        const double secs = fresh ? 0 : std::chrono::duration<double>(now - r.at).count();
        for (size_t i = 0; i < kQueueFields.size(); ++i)
          r.rate[i] = rate_of(c.*kQueueFields[i], r.last.*kQueueFields[i], secs);
        r.last = c;
        r.at = now;
        r.pass = passes_;
        const std::array<uint64_t, 3> lengths{q->message_count() + q->unacked_count(),
                                              q->message_count(), q->unacked_count()};
        r.length_rates = {change_per_second(lengths[0], r.last_lengths[0], secs),
                          change_per_second(lengths[1], r.last_lengths[1], secs),
                          change_per_second(lengths[2], r.last_lengths[2], secs)};
        r.last_lengths = lengths;
        std::array<uint64_t, 3 + 7> values{lengths[0], lengths[1], lengths[2]};
        for (size_t i = 0; i < kQueueFields.size(); ++i) values[3 + i] = c.*kQueueFields[i];
        r.history.record(wall_clock_ms(), values.data());
      });
}

// Drops the entries of queues this pass did not meet (deleted ones). Nothing inserts into
// rates_ while a pass prunes, so the iterator stays valid between slices.
bool Stats::sample_next_exchange(broker::Broker& broker) {
  return pass_->exchange_walk.step(
      broker, [](broker::VHost & vh) -> const auto& { return vh.exchanges(); },
      [&](broker::VHost& vh, const std::string& name, const std::unique_ptr<broker::Exchange>& x) {
        const broker::ExchangeCounters& c = x->counters();
        if (c.publish_in == 0) return;
        const auto now = Clock::now();
        auto [it, fresh] = exchange_rates_.try_emplace(vh.name() + '\0' + name);
        ExchangeRates& r = it->second;
        const double secs = fresh ? 0 : std::chrono::duration<double>(now - r.at).count();
        r.in = rate_of(c.publish_in, r.last.publish_in, secs);
        r.out = rate_of(c.publish_out, r.last.publish_out, secs);
        r.last = c;
        r.at = now;
        r.pass = passes_;
        const uint64_t v[2] = {c.publish_in, c.publish_out};
        r.history.record(wall_clock_ms(), v);
      });
}

bool Stats::prune_next() {
  auto& it = pass_->prune_at;
  for (int n = 0; n < 256 && it != rates_.end(); ++n)
    it = it->second.pass == passes_ ? std::next(it) : rates_.erase(it);
  if (it != rates_.end()) return true;
  auto& xit = pass_->prune_exchange_at;
  for (int n = 0; n < 256 && xit != exchange_rates_.end(); ++n)
    xit = xit->second.pass == passes_ ? std::next(xit) : exchange_rates_.erase(xit);
  return xit != exchange_rates_.end();
}

json Stats::exchange_message_stats(const broker::VHost& vh, const broker::Exchange& x) const {
  const broker::ExchangeCounters& c = x.counters();
  if (c.publish_in == 0) return nullptr;
  auto it = exchange_rates_.find(vh.name() + '\0' + x.name());
  const bool known = it != exchange_rates_.end();
  return {{"publish_in", c.publish_in},
          {"publish_in_details", {{"rate", known ? it->second.in : 0.0}}},
          {"publish_out", c.publish_out},
          {"publish_out_details", {{"rate", known ? it->second.out : 0.0}}}};
}

json Stats::queue_message_stats(const broker::Queue& q) const {
  const broker::QueueCounters& c = q.counters();
  if (!any(c)) return nullptr;
  auto it = rates_.find(q.id());
  const Rates* r = it == rates_.end() ? nullptr : &it->second;
  auto rate = [r](size_t i) { return r ? r->rate[i] : 0.0; };
  json out = json::object();
  // As RabbitMQ 3.10's queue stats: the publish counter once something was published, the
  // delivery group once something was delivered, got or acknowledged.
  if (c.publish) {
    out["publish"] = c.publish;
    out["publish_details"] = {{"rate", rate(0)}};
  }
  if (!(c.deliver || c.deliver_no_ack || c.get || c.get_no_ack || c.ack || c.redeliver)) return out;
  double deliver_get_rate = 0;
  for (size_t i = 1; i < kQueueFields.size(); ++i) {
    out[kQueueFieldNames[i]] = c.*kQueueFields[i];
    out[std::string(kQueueFieldNames[i]) + "_details"] = {{"rate", rate(i)}};
    if (i <= 4) deliver_get_rate += rate(i);  // deliver .. get_no_ack
  }
  out["deliver_get"] = c.deliver + c.deliver_no_ack + c.get + c.get_no_ack;
  out["deliver_get_details"] = {{"rate", deliver_get_rate}};
  out["get_empty"] = 0;
  out["get_empty_details"] = {{"rate", 0.0}};
  return out;
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

const std::array<Stats::ChurnField, 7> Stats::kChurnFields = {{
    {"channel_closed", &broker::NodeCounters::channels_closed},
    {"channel_created", &broker::NodeCounters::channels_opened},
    {"connection_closed", &broker::NodeCounters::connections_closed},
    {"connection_created", &broker::NodeCounters::connections_opened},
    {"queue_created", &broker::NodeCounters::queues_created},
    {"queue_declared", &broker::NodeCounters::queues_declared},
    {"queue_deleted", &broker::NodeCounters::queues_deleted},
}};

void Stats::CounterRates::update(const broker::MessageCounters& now, double secs) {
  for (size_t i = 0; i < kCounterFields.size(); ++i) {
    auto f = kCounterFields[i].field;
    rate[i] = rate_of(now.*f, last.*f, secs);
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

json Stats::churn_rates() const {
  json out = json::object();
  for (size_t i = 0; i < kChurnFields.size(); ++i) {
    const auto& f = kChurnFields[i];
    out[f.name] = broker_ != nullptr ? broker_->node_counters().*f.field : 0;
    out[std::string(f.name) + "_details"] = {{"rate", node_rates_[i]}};
  }
  return out;
}

json Stats::vhost_message_stats(const broker::VHost& vh) const {
  const broker::MessageCounters& c = vh.message_counters();
  if (!any(c)) return nullptr;
  auto it = vhost_rates_.find(vh.name());
  return counters_json(c, it == vhost_rates_.end() ? nullptr : &it->second);
}

}  // namespace pulse::http
