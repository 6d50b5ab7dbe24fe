#include "http/channel_stats.h"

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

void ChannelStats::sample(const std::vector<ConnectionInfo>& conns,
                          const std::vector<ChannelInfo>& chans,
                          std::chrono::steady_clock::time_point now) {
  const double secs = last_ == std::chrono::steady_clock::time_point{}
                          ? 0.0
                          : std::chrono::duration<double>(now - last_).count();
  last_ = now;
  std::unordered_map<uint64_t, ChannelEntry> ch_next;
  ch_next.reserve(chans.size());
  for (const auto& ch : chans) {
    ChannelEntry e;
    e.last = flatten(ch.counts);
    if (auto it = channels_.find(ch.key()); it != channels_.end())
      for (size_t k = 0; k < kCounts; ++k) e.rate[k] = rate_of(e.last[k], it->second.last[k], secs);
    ch_next.emplace(ch.key(), e);
  }
  channels_.swap(ch_next);
  std::unordered_map<uint64_t, ConnEntry> conn_next;
  conn_next.reserve(conns.size());
  for (const auto& c : conns) {
    ConnEntry e{c.recv_oct, c.send_oct, 0, 0};
    if (auto it = conns_.find(c.id); it != conns_.end()) {
      e.recv_rate = rate_of(c.recv_oct, it->second.recv, secs);
      e.send_rate = rate_of(c.send_oct, it->second.send, secs);
    }
    conn_next.emplace(c.id, e);
  }
  conns_.swap(conn_next);
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
