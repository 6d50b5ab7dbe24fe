#include "http/metrics.h"

#include <dirent.h>
#include <sys/resource.h>

#include <charconv>
#include <chrono>
#include <functional>

#include "http/api.h"
#include "http/chunked.h"

namespace pulse::http {
namespace {

using broker::MessageCounters;

// One open channel and one open connection, copied on the loop for the worker (the snapshots
// of connections_view.h may point into the sessions, which the worker must not see).
struct ChannelMetrics {
  std::string name;  // "127.0.0.1:5000 -> 127.0.0.1:5672 (1)", the management API's name
  std::string vhost;
  size_t consumers = 0;
  uint64_t unacked = 0, unconfirmed = 0, uncommitted = 0;
  uint16_t prefetch = 0, global_prefetch = 0;
  MessageCounters counters;
};

struct ConnectionMetrics {
  std::string name;  // "127.0.0.1:5000 -> 127.0.0.1:5672"
  size_t channels = 0;
  uint64_t recv_oct = 0, send_oct = 0;
};

const int64_t kStartTime = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();

// The `rabbitmq_build_info` labels: the RabbitMQ release whose behaviour pulsed follows.
constexpr const char* kRabbitVersion = "3.10.8";

std::string escape_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// Label sets are written pre-rendered: `vhost="/",queue="q"`.
std::string labels(std::initializer_list<std::pair<const char*, std::string_view>> kv) {
  std::string out;
  for (const auto& [k, v] : kv) {
    if (!out.empty()) out += ',';
    out += k;
    out += "=\"";
    out += escape_label(v);
    out += '"';
  }
  return out;
}

class Writer {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += "\n# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += '\n';
    name_ = name;
  }
  void sample(std::string_view lbl, uint64_t v) {
    head(lbl);
    out_ += std::to_string(v);
    out_ += '\n';
  }
  void sample_double(std::string_view lbl, double v) {
    head(lbl);
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
    out_ += '\n';
  }
  // A family with one unlabelled sample.
  void one(std::string_view name, std::string_view type, std::string_view help, uint64_t v) {
    family(name, type, help);
    sample({}, v);
  }
  std::string take() { return std::move(out_); }

 private:
  void head(std::string_view lbl) {
    out_ += name_;
    if (!lbl.empty()) {
      out_ += '{';
      out_ += lbl;
      out_ += '}';
    }
    out_ += ' ';
  }
  std::string out_;
  std::string name_;
};

struct QueueMetric {
  const char* name;
  const char* type;
  const char* help;
  std::function<uint64_t(const broker::Queue&)> value;
};

const std::vector<QueueMetric>& queue_metrics() {
  static const std::vector<QueueMetric> m = {
      {"rabbitmq_queue_messages_ready", "gauge", "Messages ready to be delivered to consumers",
       [](const broker::Queue& q) { return q.message_count(); }},
      {"rabbitmq_queue_messages_unacked", "gauge",
       "Messages delivered to consumers but not yet acknowledged",
       [](const broker::Queue& q) { return q.unacked_count(); }},
      {"rabbitmq_queue_messages", "gauge",
       "Sum of ready and unacknowledged messages - total queue depth",
       [](const broker::Queue& q) { return q.message_count() + q.unacked_count(); }},
      {"rabbitmq_queue_consumers", "gauge", "Consumers on a queue",
       [](const broker::Queue& q) { return q.consumer_count(); }},
      {"rabbitmq_queue_messages_ram", "gauge", "Ready and unacknowledged messages stored in memory",
       [](const broker::Queue& q) {
         return q.message_count() - q.paged_count() + q.unacked_count();
       }},
      {"rabbitmq_queue_messages_ready_ram", "gauge", "Ready messages stored in memory",
       [](const broker::Queue& q) { return q.message_count() - q.paged_count(); }},
      {"rabbitmq_queue_messages_unacked_ram", "gauge", "Unacknowledged messages stored in memory",
       [](const broker::Queue& q) { return q.unacked_count(); }},
      {"rabbitmq_queue_messages_bytes", "gauge",
       "Size in bytes of ready and unacknowledged messages",
       [](const broker::Queue& q) { return q.ready_bytes() + q.unacked_bytes(); }},
      {"rabbitmq_queue_messages_ready_bytes", "gauge", "Size in bytes of ready messages",
       [](const broker::Queue& q) { return q.ready_bytes(); }},
      {"rabbitmq_queue_messages_unacked_bytes", "gauge",
       "Size in bytes of all unacknowledged messages",
       [](const broker::Queue& q) { return q.unacked_bytes(); }},
      {"rabbitmq_queue_messages_paged_out", "gauge", "Messages paged out to disk",
       [](const broker::Queue& q) { return q.paged_count(); }},
  };
  return m;
}

struct CounterMetric {
  const char* name;
  const char* help;
  uint64_t MessageCounters::*field;
  bool per_queue;  // per-object labels {channel, vhost, queue}, else {channel, vhost, exchange}
};

// rabbitmq_channel_* counters (RabbitMQ 3.10 order).
const CounterMetric kChannelCounters[] = {
    {"rabbitmq_channel_messages_published_total",
     "Total number of messages published into an exchange on a channel", &MessageCounters::publish,
     false},
    {"rabbitmq_channel_messages_confirmed_total",
     "Total number of messages published into an exchange and confirmed on the channel",
     &MessageCounters::confirm, false},
    {"rabbitmq_channel_messages_unroutable_returned_total",
     "Total number of messages published as mandatory into an exchange and returned to the "
     "publisher as unroutable",
     &MessageCounters::return_unroutable, false},
    {"rabbitmq_channel_messages_unroutable_dropped_total",
     "Total number of messages published as non-mandatory into an exchange and dropped as "
     "unroutable",
     &MessageCounters::drop_unroutable, false},
    {"rabbitmq_channel_get_ack_total",
     "Total number of messages fetched with basic.get in manual acknowledgement mode",
     &MessageCounters::get, true},
    {"rabbitmq_channel_get_total",
     "Total number of messages fetched with basic.get in automatic acknowledgement mode",
     &MessageCounters::get_no_ack, true},
    {"rabbitmq_channel_messages_delivered_ack_total",
     "Total number of messages delivered to consumers in manual acknowledgement mode",
     &MessageCounters::deliver, true},
    {"rabbitmq_channel_messages_delivered_total",
     "Total number of messages delivered to consumers in automatic acknowledgement mode",
     &MessageCounters::deliver_no_ack, true},
    {"rabbitmq_channel_messages_redelivered_total",
     "Total number of messages redelivered to consumers", &MessageCounters::redeliver, true},
    {"rabbitmq_channel_messages_acked_total", "Total number of messages acknowledged by consumers",
     &MessageCounters::ack, true},
    {"rabbitmq_channel_get_empty_total",
     "Total number of times basic.get operations fetched no message", &MessageCounters::get_empty,
     true},
};

uint64_t open_fds() {
  uint64_t n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (const dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
    if (n > 0) --n;  // the directory stream's own descriptor
  }
  return n;
}

uint64_t max_fds() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 0;
  return rl.rlim_cur;
}

void node_section(Writer& w, const NodeStatus& st, const broker::NodeCounters& nc,
                  bool per_object) {
  // rabbitmq_prometheus leaves the start time and the alarms out of the per-object form.
  if (!per_object) {
    w.family("process_start_time_seconds", "gauge",
             "Start time of the process since unix epoch in seconds.");
    w.sample({}, static_cast<uint64_t>(kStartTime));
    w.one("rabbitmq_alarms_file_descriptor_limit", "untyped",
          "is 1 if file descriptor limit alarm is in effect", 0);
    w.one("rabbitmq_alarms_free_disk_space_watermark", "untyped",
          "is 1 if free disk space watermark alarm is in effect", st.disk_alarm ? 1 : 0);
    w.one("rabbitmq_alarms_memory_used_watermark", "untyped",
          "is 1 if VM memory watermark alarm is in effect", st.memory_alarm ? 1 : 0);
  }
  w.one("rabbitmq_connections_opened_total", "counter", "Total number of connections opened",
        nc.connections_opened);
  w.one("rabbitmq_connections_closed_total", "counter",
        "Total number of connections closed or terminated", nc.connections_closed);
  w.one("rabbitmq_channels_opened_total", "counter", "Total number of channels opened",
        nc.channels_opened);
  w.one("rabbitmq_channels_closed_total", "counter", "Total number of channels closed",
        nc.channels_closed);
  w.one("rabbitmq_queues_declared_total", "counter", "Total number of queues declared",
        nc.queues_declared);
  w.one("rabbitmq_queues_created_total", "counter", "Total number of queues created",
        nc.queues_created);
  w.one("rabbitmq_queues_deleted_total", "counter", "Total number of queues deleted",
        nc.queues_deleted);
  w.one("rabbitmq_process_open_fds", "gauge", "Open file descriptors", open_fds());
  w.one("rabbitmq_process_open_tcp_sockets", "gauge", "Open TCP sockets", st.connections);
  w.one("rabbitmq_process_resident_memory_bytes", "gauge", "Memory used in bytes", st.mem_used);
  w.one("rabbitmq_disk_space_available_bytes", "gauge", "Disk space available in bytes",
        st.disk_free);
  w.one("rabbitmq_process_max_fds", "gauge", "Open file descriptors limit", max_fds());
  w.one("rabbitmq_resident_memory_limit_bytes", "gauge", "Memory high watermark in bytes",
        st.mem_limit);
  w.one("rabbitmq_disk_space_available_limit_bytes", "gauge",
        "Free disk space low watermark in bytes", st.disk_free_limit);
}

// Everything a scrape reports, copied on the loop (connections and queues in slices); the text
// is written on the worker, so a scrape of 100k queues or 10k connections stalls no one
// (design §2).
struct Scrape {
  bool per_object = false;
  std::string node_name, cluster_name, cluster_id;
  NodeStatus st;
  broker::NodeCounters nc;
  MessageCounters totals;
  std::vector<ChannelMetrics> chans;
  std::vector<ConnectionMetrics> conns;
  size_t queues = 0, consumers = 0;
  struct Row {
    std::string vhost, name;
    std::vector<uint64_t> values;  // one per queue_metrics() entry
  };
  std::vector<Row> rows;       // per object only
  std::vector<uint64_t> sums;  // aggregated only
};

// One connection and its channels, through the same hooks as the connection listings.
void sample_connection(Scrape& s, const Hooks& h, uint64_t id) {
  auto conn = h.connection ? h.connection(id) : std::nullopt;
  if (!conn) return;  // closed since the scrape started
  ConnectionMetrics& cm = s.conns.emplace_back();
  cm.name = conn->name;
  cm.recv_oct = conn->recv_oct;
  cm.send_oct = conn->send_oct;
  if (!h.connection_channels) return;
  for (const auto& ch : h.connection_channels(id)) {
    ++cm.channels;
    ChannelMetrics& m = s.chans.emplace_back();
    m.name = ch.name();
    m.vhost = ch.vhost;
    m.consumers = ch.consumers.size();
    m.unacked = ch.unacked;
    m.unconfirmed = ch.unconfirmed;
    m.uncommitted = ch.uncommitted;
    m.prefetch = ch.prefetch_count;
    m.global_prefetch = ch.global_prefetch_count;
    m.counters = ch.counts;
  }
}

void sample_queue(Scrape& s, const std::string& vhost, const std::string& name,
                  const broker::Queue& q) {
  const auto& metrics = queue_metrics();
  ++s.queues;
  s.consumers += q.consumer_count();
  if (!s.per_object) {
    for (size_t i = 0; i < metrics.size(); ++i) s.sums[i] += metrics[i].value(q);
    return;
  }
  Scrape::Row& r = s.rows.emplace_back();
  r.vhost = vhost;
  r.name = name;
  r.values.reserve(metrics.size());
  for (const auto& m : metrics) r.values.push_back(m.value(q));
}

void queue_section(Writer& w, const Scrape& s) {
  const auto& metrics = queue_metrics();
  for (size_t i = 0; i < metrics.size(); ++i) {
    w.family(metrics[i].name, metrics[i].type, metrics[i].help);
    if (!s.per_object) {
      w.sample({}, s.sums[i]);
      continue;
    }
    for (const auto& r : s.rows)
      w.sample(labels({{"vhost", r.vhost}, {"queue", r.name}}), r.values[i]);
  }
}

void channel_section(Writer& w, const MessageCounters& totals,
                     const std::vector<ChannelMetrics>& chans, bool per_object) {
  struct Gauge {
    const char* name;
    const char* help;
    std::function<uint64_t(const ChannelMetrics&)> value;
  };
  const Gauge gauges[] = {
      {"rabbitmq_channel_consumers", "Consumers on a channel",
       [](const ChannelMetrics& c) { return c.consumers; }},
      {"rabbitmq_channel_messages_unacked", "Delivered but not yet acknowledged messages",
       [](const ChannelMetrics& c) { return c.unacked; }},
      {"rabbitmq_channel_messages_unconfirmed", "Published but not yet confirmed messages",
       [](const ChannelMetrics& c) { return c.unconfirmed; }},
      {"rabbitmq_channel_messages_uncommitted",
       "Messages received in a transaction but not yet committed",
       [](const ChannelMetrics& c) { return c.uncommitted; }},
      {"rabbitmq_consumer_prefetch", "Limit of unacknowledged messages for each consumer",
       [](const ChannelMetrics& c) { return c.prefetch; }},
      {"rabbitmq_channel_prefetch",
       "Total limit of unacknowledged messages for all consumers on a channel",
       [](const ChannelMetrics& c) { return c.global_prefetch; }},
  };
  for (const auto& g : gauges) {
    w.family(g.name, "gauge", g.help);
    uint64_t total = 0;
    for (const auto& c : chans) {
      if (per_object) {
        w.sample(labels({{"channel", c.name}}), g.value(c));
      } else {
        total += g.value(c);
      }
    }
    if (!per_object) w.sample({}, total);
  }
  // Aggregated: the broker's totals since start. Per object: each open channel's own counts,
  // labelled with its vhost (pulsed does not split a channel's counts by exchange or queue).
  for (const auto& m : kChannelCounters) {
    w.family(m.name, "counter", m.help);
    if (!per_object) {
      w.sample({}, totals.*m.field);
      continue;
    }
    for (const auto& c : chans)
      w.sample(labels({{"channel", c.name}, {"vhost", c.vhost}}), c.counters.*m.field);
  }
}

void connection_section(Writer& w, const std::vector<ConnectionMetrics>& conns, bool per_object) {
  struct Metric {
    const char* name;
    const char* type;
    const char* help;
    std::function<uint64_t(const ConnectionMetrics&)> value;
  };
  const Metric metrics[] = {
      {"rabbitmq_connection_incoming_bytes_total", "counter",
       "Total number of bytes received on a connection",
       [](const ConnectionMetrics& c) { return c.recv_oct; }},
      {"rabbitmq_connection_outgoing_bytes_total", "counter",
       "Total number of bytes sent on a connection",
       [](const ConnectionMetrics& c) { return c.send_oct; }},
      {"rabbitmq_connection_channels", "gauge", "Channels on a connection",
       [](const ConnectionMetrics& c) { return c.channels; }},
  };
  for (const auto& m : metrics) {
    w.family(m.name, m.type, m.help);
    uint64_t total = 0;
    for (const auto& c : conns) {
      // RabbitMQ labels connection metrics `channel` too (with the connection's pid).
      if (per_object) {
        w.sample(labels({{"channel", c.name}}), m.value(c));
      } else {
        total += m.value(c);
      }
    }
    if (!per_object) w.sample({}, total);
  }
}

void global_section(Writer& w, const MessageCounters& c, size_t consumers) {
  const std::string proto = labels({{"protocol", "amqp091"}});
  const std::string classic =
      labels({{"protocol", "amqp091"}, {"queue_type", "rabbit_classic_queue"}});
  w.family("rabbitmq_global_consumers", "gauge", "Current number of consumers");
  w.sample(proto, consumers);
  struct G {
    const char* name;
    const char* help;
    uint64_t value;
    bool per_queue_type;
  };
  const G gs[] = {
      {"rabbitmq_global_messages_acknowledged_total",
       "Total number of messages acknowledged by consumers", c.ack, true},
      {"rabbitmq_global_messages_confirmed_total",
       "Total number of messages confirmed to publishers", c.confirm, false},
      {"rabbitmq_global_messages_delivered_consume_auto_ack_total",
       "Total number of messages delivered to consumers using basic.consume with automatic "
       "acknowledgment",
       c.deliver_no_ack, true},
      {"rabbitmq_global_messages_delivered_consume_manual_ack_total",
       "Total number of messages delivered to consumers using basic.consume with manual "
       "acknowledgment",
       c.deliver, true},
      {"rabbitmq_global_messages_delivered_get_auto_ack_total",
       "Total number of messages delivered to consumers using basic.get with automatic "
       "acknowledgment",
       c.get_no_ack, true},
      {"rabbitmq_global_messages_delivered_get_manual_ack_total",
       "Total number of messages delivered to consumers using basic.get with manual "
       "acknowledgment",
       c.get, true},
      {"rabbitmq_global_messages_delivered_total",
       "Total number of messages delivered to consumers",
       c.deliver + c.deliver_no_ack + c.get + c.get_no_ack, true},
      {"rabbitmq_global_messages_get_empty_total",
       "Total number of times basic.get operations fetched no message", c.get_empty, true},
      {"rabbitmq_global_messages_received_total",
       "Total number of messages received from publishers", c.publish, false},
      {"rabbitmq_global_messages_redelivered_total",
       "Total number of messages redelivered to consumers", c.redeliver, true},
      {"rabbitmq_global_messages_routed_total",
       "Total number of messages routed to queues or streams", c.routed, false},
      {"rabbitmq_global_messages_unroutable_dropped_total",
       "Total number of messages published as non-mandatory into an exchange and dropped as "
       "unroutable",
       c.drop_unroutable, false},
      {"rabbitmq_global_messages_unroutable_returned_total",
       "Total number of messages published as mandatory into an exchange and returned to the "
       "publisher as unroutable",
       c.return_unroutable, false},
  };
  for (const auto& g : gs) {
    w.family(g.name, "counter", g.help);
    w.sample(g.per_queue_type ? classic : proto, g.value);
  }
}

}  // namespace

bool is_metrics_path(const Request& req) {
  const auto& s = req.segments;
  return !req.under_api && !s.empty() && s[0] == "metrics" &&
         (s.size() == 1 || (s.size() == 2 && s[1] == "per-object"));
}

namespace {

Response write_scrape(const Scrape& s) {
  Writer w;
  node_section(w, s.st, s.nc, s.per_object);
  queue_section(w, s);
  channel_section(w, s.totals, s.chans, s.per_object);
  connection_section(w, s.conns, s.per_object);
  w.one("rabbitmq_queue_messages_published_total", "counter",
        "Total number of messages published to queues", s.totals.queue_publish);
  w.one("rabbitmq_connections", "gauge", "Connections currently open", s.st.connections);
  w.one("rabbitmq_channels", "gauge", "Channels currently open",
        s.nc.channels_opened - s.nc.channels_closed);
  w.one("rabbitmq_consumers", "gauge", "Consumers currently connected", s.consumers);
  w.one("rabbitmq_queues", "gauge", "Queues available", s.queues);
  w.family("rabbitmq_build_info", "untyped", "RabbitMQ & Erlang/OTP version info");
  w.sample(labels({{"rabbitmq_version", kRabbitVersion},
                   {"prometheus_plugin_version", kRabbitVersion},
                   {"prometheus_client_version", "pulsed"},
                   {"erlang_version", "none"},
                   {"product_name", "Pulse"},
                   {"product_version", "0.1.0"}}),
           1);
  w.family("rabbitmq_identity_info", "untyped", "RabbitMQ node & cluster identity info");
  w.sample(labels({{"rabbitmq_node", s.node_name},
                   {"rabbitmq_cluster", s.cluster_name},
                   {"rabbitmq_cluster_permanent_id", s.cluster_id}}),
           1);
  global_section(w, s.totals, s.consumers);

  Response r;
  r.status = 200;
  r.body = w.take();
  r.content_type = "text/plain; version=0.0.4";
  return r;
}

}  // namespace

void metrics_response(Api& api, const Request& req, std::function<void(Response)> done) {
  if (req.method != "GET") return done(method_not_allowed("HEAD, GET, OPTIONS"));
  auto s = std::make_shared<Scrape>();
  s->per_object = req.segments.size() == 2;
  s->node_name = api.node_name();
  s->cluster_name = api.broker().global_parameters().cluster_name();
  s->cluster_id = api.broker().global_parameters().internal_cluster_id();
  const Hooks& h = api.hooks();
  if (h.node_status) s->st = h.node_status();
  auto ids = std::make_shared<std::vector<uint64_t>>(h.connection_ids ? h.connection_ids()
                                                                      : std::vector<uint64_t>{});
  auto next = std::make_shared<size_t>(0);
  broker::Broker& b = api.broker();
  s->nc = b.node_counters();
  s->totals = b.message_counters();
  s->sums.assign(queue_metrics().size(), 0);
  auto walk = std::make_shared<VhostWalk>([](const std::string&) { return true; });
  Scheduler& sched = api.scheduler();
  run_sliced(
      sched,
      [s, walk, &b, &h, ids, next] {
        if (*next < ids->size()) {
          sample_connection(*s, h, (*ids)[(*next)++]);
          return true;
        }
        return walk->step(
            b, [](broker::VHost & vh) -> const auto& { return vh.queues(); },
            [&](broker::VHost& vh, const std::string& name, const broker::QueuePtr& q) {
              sample_queue(*s, vh.name(), name, *q);
            });
      },
      [s, &sched, done = std::move(done)] {
        answer_from_worker(sched, done, [s] { return write_scrape(*s); });
      });
}

}  // namespace pulse::http
