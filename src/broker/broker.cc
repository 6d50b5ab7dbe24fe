#include "broker/broker.h"

namespace pulse::broker {

Broker::Broker() : rng_(std::random_device{}()) {}

Broker::~Broker() {
  closing_ = true;
  vhosts_.clear();
}

VHost* Broker::find_vhost(const std::string& name) {
  auto it = vhosts_.find(name);
  return it == vhosts_.end() ? nullptr : it->second.get();
}

VHost& Broker::add_vhost(const std::string& name) {
  auto& slot = vhosts_[name];
  if (!slot) {
    slot = std::make_unique<VHost>(*this, name);
    if (observer_) observer_->on_vhost_added(name);
  }
  return *slot;
}

bool Broker::delete_vhost(const std::string& name) {
  if (vhosts_.find(name) == vhosts_.end()) return false;
  if (vhost_deleting_hook_) vhost_deleting_hook_(name);
  if (vhosts_.erase(name) == 0) return false;
  if (observer_) observer_->on_vhost_deleted(name);
  return true;
}

Result<bool> Broker::set_global_parameter(const std::string& name, std::string value_json) {
  if (auto s = GlobalParameters::validate(name, value_json); !s) return std::move(s).error();
  bool created = global_parameters_.set(name, value_json);
  if (observer_) observer_->on_global_parameter_set(name, value_json);
  return created;
}

bool Broker::clear_global_parameter(const std::string& name) {
  if (!global_parameters_.clear(name)) return false;
  if (observer_) observer_->on_global_parameter_cleared(name);
  return true;
}

std::string Broker::generate_name(const char* prefix) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string s(prefix);
  uint64_t a = rng_(), b = rng_();
  for (int i = 0; i < 22; ++i) {
    uint64_t& src = i < 11 ? a : b;
    s.push_back(kAlphabet[src & 63]);
    src >>= 6;
  }
  return s;
}

void Broker::schedule(Queue& q, TimePoint when) {
  bool earliest = timers_.empty() || when < timers_.top().when;
  timers_.push(TimerEntry{when, q.weak_from_this()});
  if (earliest && timer_hook_) timer_hook_(when);
}

void Broker::run_timers(TimePoint now) {
  while (!timers_.empty() && timers_.top().when <= now) {
    TimerEntry e = timers_.top();
    timers_.pop();
    auto q = e.queue.lock();
    if (q && q->timer_armed_at(e.when)) q->on_timer(now);
  }
}

std::optional<TimePoint> Broker::next_timer() const {
  if (timers_.empty()) return std::nullopt;
  return timers_.top().when;
}

std::string Broker::register_reply_sink(DirectReplySink* sink) {
  std::string token = generate_name("");
  reply_sinks_[token] = sink;
  return token;
}

void Broker::unregister_reply_sink(const std::string& token) {
  reply_sinks_.erase(token);
}

DirectReplySink* Broker::find_reply_sink(const std::string& token) {
  auto it = reply_sinks_.find(token);
  return it == reply_sinks_.end() ? nullptr : it->second;
}

void Broker::connection_closed(uint64_t connection_id) {
  for (auto& [name, vh] : vhosts_) vh->connection_closed(connection_id);
}

}  // namespace pulse::broker
