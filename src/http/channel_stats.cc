#include "http/channel_stats.h"

#include <algorithm>

namespace pulse::http {

namespace {

// The order of ChannelStats::Counts.
constexpr const char* kNames[ChannelStats::kCounts] = {
    "publish",        "confirm", "return_unroutable", "drop_unroutable", "deliver",
    "deliver_no_ack", "get",     "get_no_ack",        "get_empty",       "ack",
    "redeliver"};
enum : size_t {
  kPublish,
  kConfirm,
  kReturnUnroutable,
  kDropUnroutable,
  kDeliver,
  kDeliverNoAck,
  kGet,
  kGetNoAck,
  kGetEmpty,
  kAck,
  kRedeliver
};

double rate_of(uint64_t now, uint64_t before, double seconds) {
  return seconds > 0 && now >= before ? static_cast<double>(now - before) / seconds : 0.0;
}

}  // namespace

ChannelStats::Counts ChannelStats::flatten(const ChannelCounts& c) {
  return {c.publish,        c.confirm, c.return_unroutable, c.drop_unroutable, c.deliver,
          c.deliver_no_ack, c.get,     c.get_no_ack,        c.get_empty,       c.ack,
          c.redeliver};
}

struct ChannelStats::Pass {
  Source source;
  size_t next = 0;
  int phase = 0;  // 0 walking, 1 pruning channels, 2 pruning connections
  std::unordered_map<uint64_t, ChannelEntry>::iterator ch_at;
  std::unordered_map<uint64_t, ConnEntry>::iterator conn_at;
  std::unordered_map<std::string, std::pair<double, double>> vhost_rates;  // recv, send
  std::vector<std::function<void()>> done;
};

void ChannelStats::sample(Scheduler& s, Source source, std::function<void()> done) {
  if (pass_) {
    if (done) pass_->done.push_back(std::move(done));
    return;
  }
  pass_ = std::make_shared<Pass>();
  pass_->source = std::move(source);
  if (done) pass_->done.push_back(std::move(done));
  ++passes_;
  run_sliced(
      s,
      [this] {
        Pass& p = *pass_;
        if (p.phase == 0) {
          if (p.next < p.source.ids.size()) {
            sample_connection(p.source.ids[p.next++]);
            return true;
          }
          p.phase = 1;
          p.ch_at = channels_.begin();
          p.conn_at = conns_.begin();
        }
        return prune_next();
      },
      [this] {
        auto pass = std::move(pass_);
        for (auto& [name, v] : vhosts_) {
          auto it = pass->vhost_rates.find(name);
          v.recv_rate = it == pass->vhost_rates.end() ? 0.0 : it->second.first;
          v.send_rate = it == pass->vhost_rates.end() ? 0.0 : it->second.second;
        }
        for (auto& d : pass->done) d();
      });
}

// One connection and its channels, each rate over the time since that object's last sample.
void ChannelStats::sample_connection(uint64_t id) {
  const Source& src = pass_->source;
  auto conn = src.connection ? src.connection(id) : std::nullopt;
  if (!conn) return;  // closed since the pass started
  const auto now = std::chrono::steady_clock::now();
  auto secs_since = [now](bool fresh, std::chrono::steady_clock::time_point at) {
    return fresh ? 0.0 : std::chrono::duration<double>(now - at).count();
  };
  auto [cit, cfresh] = conns_.try_emplace(id);
  ConnEntry& c = cit->second;
  const double csecs = secs_since(cfresh, c.at);
  c.recv_rate = rate_of(conn->recv_oct, c.recv, csecs);
  c.send_rate = rate_of(conn->send_oct, c.send, csecs);
  VhostOctets& v = vhosts_[conn->vhost];
  v.recv += conn->recv_oct - std::min(c.recv, conn->recv_oct);
  v.send += conn->send_oct - std::min(c.send, conn->send_oct);
  auto& r = pass_->vhost_rates[conn->vhost];
  r.first += c.recv_rate;
  r.second += c.send_rate;
  c.recv = conn->recv_oct;
  c.send = conn->send_oct;
  c.at = now;
  c.pass = passes_;
  if (!src.channels) return;
  for (const auto& ch : src.channels(id)) {
    auto [it, fresh] = channels_.try_emplace(ch.key());
    ChannelEntry& e = it->second;
    const double secs = secs_since(fresh, e.at);
    const Counts n = flatten(ch.counts);
    for (size_t k = 0; k < kCounts; ++k) e.rate[k] = rate_of(n[k], e.last[k], secs);
    e.last = n;
    e.at = now;
    e.pass = passes_;
  }
}

// Drops the entries of sessions this pass did not meet (closed ones). Nothing inserts into the
// maps while a pass prunes, so the iterators stay valid between slices.
bool ChannelStats::prune_next() {
  Pass& p = *pass_;
  for (int n = 0; n < 256; ++n) {
    if (p.ch_at != channels_.end()) {
      p.ch_at = p.ch_at->second.pass == passes_ ? std::next(p.ch_at) : channels_.erase(p.ch_at);
    } else if (p.conn_at != conns_.end()) {
      p.conn_at =
          p.conn_at->second.pass == passes_ ? std::next(p.conn_at) : conns_.erase(p.conn_at);
    } else {
      return false;
    }
  }
  return true;
}

const ChannelStats::VhostOctets* ChannelStats::vhost_octets(const std::string& vhost) const {
  auto it = vhosts_.find(vhost);
  return it == vhosts_.end() ? nullptr : &it->second;
}

nlohmann::json ChannelStats::message_stats(const ChannelInfo& ch) const {
  const Counts n = flatten(ch.counts);
  const auto it = channels_.find(ch.key());
  auto rate = [&](size_t k) { return it == channels_.end() ? 0.0 : it->second.rate[k]; };
  const bool published = n[kPublish] > 0;
  const bool delivered = n[kDeliver] + n[kDeliverNoAck] + n[kGet] + n[kGetNoAck] + n[kGetEmpty] > 0;
  if (!published && !delivered) return nullptr;
  nlohmann::json j = nlohmann::json::object();
  auto put = [&j](const char* name, uint64_t v, double r) {
    j[name] = v;
    j[std::string(name) + "_details"] = {{"rate", r}};
  };
  if (published)
    for (size_t k : {kPublish, kConfirm, kReturnUnroutable, kDropUnroutable})
      put(kNames[k], n[k], rate(k));
  if (delivered) {
    for (size_t k : {kAck, kDeliver, kDeliverNoAck, kGet, kGetEmpty, kGetNoAck, kRedeliver})
      put(kNames[k], n[k], rate(k));
    put("deliver_get", n[kDeliver] + n[kDeliverNoAck] + n[kGet] + n[kGetNoAck],
        rate(kDeliver) + rate(kDeliverNoAck) + rate(kGet) + rate(kGetNoAck));
  }
  return j;
}

double ChannelStats::recv_rate(uint64_t conn_id) const {
  auto it = conns_.find(conn_id);
  return it == conns_.end() ? 0.0 : it->second.recv_rate;
}

double ChannelStats::send_rate(uint64_t conn_id) const {
  auto it = conns_.find(conn_id);
  return it == conns_.end() ? 0.0 : it->second.send_rate;
}

}  // namespace pulse::http
