// The history half of Stats (stats.h, history.h): recording the vhosts' and the node's totals
// once a pass has walked the queues, and adding samples to the JSON of range queries.
#include <algorithm>
#include <array>
#include <string_view>

#include "http/stats.h"

namespace pulse::http {

using nlohmann::json;

namespace {

constexpr const char* kLengthNames[] = {"messages", "messages_ready", "messages_unacknowledged"};

// The fields message_stats reports as deliver_get (deliver, deliver_no_ack, get, get_no_ack).
bool is_deliver_get_part(const char* name) {
  const std::string_view n(name);
  return n == "deliver" || n == "deliver_no_ack" || n == "get" || n == "get_no_ack";
}

// Samples of `series` value `index` (or of the sum of `sum_of`, deliver_get) into
// obj[name + "_details"] when obj has it.
void decorate(json& obj, const std::string& name, const Series* series,
              const std::vector<size_t>& sum_of, const SampleRange& range, int64_t now_ms) {
  auto it = obj.find(name + "_details");
  if (it == obj.end() || !it->is_object()) return;
  add_samples(*it, take_samples(range, now_ms, [&](int64_t ts) -> uint64_t {
    if (series == nullptr) return 0;
    uint64_t v = 0;
    for (size_t i : sum_of) v += series->value_at(ts, i);
    return v;
  }));
}

void decorate_lengths(json& obj, const Series* series, const SampleRange& range, int64_t now) {
  for (size_t i = 0; i < 3; ++i) decorate(obj, kLengthNames[i], series, {i}, range, now);
}

// message_stats from a series whose counters start at index 3 and are named `names`.
template <class Names>
void decorate_counters(json& message_stats, const Series* series, const Names& names,
                       const SampleRange& range, int64_t now) {
  if (!message_stats.is_object()) return;
  std::vector<size_t> deliver_get;
  for (size_t i = 0; i < names.size(); ++i) {
    decorate(message_stats, names[i], series, {3 + i}, range, now);
    if (is_deliver_get_part(names[i])) deliver_get.push_back(3 + i);
  }
  decorate(message_stats, "deliver_get", series, deliver_get, range, now);
  // A queue does not count get_empty (its message_stats report 0, as RabbitMQ's do).
  if (std::find(names.begin(), names.end(), std::string_view("get_empty")) == names.end())
    decorate(message_stats, "get_empty", nullptr, {}, range, now);
}

std::array<const char*, 11> counter_names() {
  std::array<const char*, 11> out{};
  for (size_t i = 0; i < out.size(); ++i) out[i] = Stats::kCounterFields[i].name;
  return out;
}

}  // namespace

void Stats::TotalsHistory::record(int64_t now_ms, const QueueTotals& t,
                                  const broker::MessageCounters& c) {
  std::array<uint64_t, 3 + 11> v{t.messages, t.ready, t.unacked};
  for (size_t i = 0; i < Stats::kCounterFields.size(); ++i)
    v[3 + i] = c.*Stats::kCounterFields[i].field;
  series.record(now_ms, v.data());
  if (at_ms != 0) {
    const double secs = static_cast<double>(now_ms - at_ms) / 1000.0;
    length_rates = {change_per_second(v[0], last_lengths[0], secs),
                    change_per_second(v[1], last_lengths[1], secs),
                    change_per_second(v[2], last_lengths[2], secs)};
  }
  last_lengths = {v[0], v[1], v[2]};
  at_ms = now_ms;
}

LengthRates Stats::queue_length_rates(const broker::Queue& q) const {
  auto it = rates_.find(q.id());
  return it == rates_.end() ? LengthRates{} : it->second.length_rates;
}

LengthRates Stats::vhost_length_rates(const std::string& vhost) const {
  auto it = vhost_history_.find(vhost);
  return it == vhost_history_.end() ? LengthRates{} : it->second.length_rates;
}

void Stats::record_totals(broker::Broker& broker,
                          std::unordered_map<std::string, QueueTotals>& lengths) {
  const int64_t now = wall_clock_ms();
  QueueTotals all;
  for (const auto& [name, vh] : broker.vhosts()) {
    QueueTotals t;
    if (auto it = lengths.find(name); it != lengths.end()) t = it->second;
    all.messages += t.messages;
    all.ready += t.ready;
    all.unacked += t.unacked;
    vhost_history_[name].record(now, t, vh->message_counters());
  }
  // Deleted vhosts' histories go.
  std::erase_if(vhost_history_,
                [&](const auto& e) { return broker.find_vhost(e.first) == nullptr; });
  global_history_.record(now, all, broker.message_counters());
  lengths.clear();
}

void Stats::add_queue_samples(json& j, const broker::Queue& q, const SampleRanges& r) const {
  auto it = rates_.find(q.id());
  const Series* s = it == rates_.end() ? nullptr : &it->second.history;
  const int64_t now = wall_clock_ms();
  if (r.lengths) decorate_lengths(j, s, *r.lengths, now);
  if (r.msg_rates && j.contains("message_stats")) {
    decorate_counters(j["message_stats"], s, kQueueFieldNames, *r.msg_rates, now);
  }
}

void Stats::add_vhost_samples(json& j, const std::string& vhost, const SampleRanges& r) const {
  auto it = vhost_history_.find(vhost);
  const Series* s = it == vhost_history_.end() ? nullptr : &it->second.series;
  const int64_t now = wall_clock_ms();
  if (r.lengths) decorate_lengths(j, s, *r.lengths, now);
  if (r.msg_rates && j.contains("message_stats"))
    decorate_counters(j["message_stats"], s, counter_names(), *r.msg_rates, now);
}

void Stats::add_exchange_samples(json& j, const broker::VHost& vh, const std::string& name,
                                 const SampleRanges& r) const {
  if (!r.msg_rates || !j.contains("message_stats")) return;
  auto it = exchange_rates_.find(vh.name() + '\0' + name);
  const Series* s = it == exchange_rates_.end() ? nullptr : &it->second.history;
  const int64_t now = wall_clock_ms();
  decorate(j["message_stats"], "publish_in", s, {0}, *r.msg_rates, now);
  decorate(j["message_stats"], "publish_out", s, {1}, *r.msg_rates, now);
}

void Stats::add_overview_samples(json& message_stats, json& queue_totals,
                                 const SampleRanges& r) const {
  const int64_t now = wall_clock_ms();
  if (r.lengths) decorate_lengths(queue_totals, &global_history_.series, *r.lengths, now);
  if (r.msg_rates)
    decorate_counters(message_stats, &global_history_.series, counter_names(), *r.msg_rates, now);
}

}  // namespace pulse::http
