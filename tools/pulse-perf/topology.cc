// Exchange, queues and bindings of a load run, declared before the clients start and removed
// (what this run created) afterwards.
#include <algorithm>
#include <random>

#include "run.h"

namespace pulse::perf {

using client::Channel;
using client::Connection;

Result<std::unique_ptr<Connection>> connect(const PerfOptions& o, const std::string& name) {
  client::ConnectionOptions c = o.connection;
  c.connection_name = name;
  return Connection::open(c);
}

namespace {

// Reopens `ch` after the server closed it (a failed passive declare closes the channel).
Status reopen(Connection& conn, Channel*& ch) {
  (void)ch->close();
  auto r = conn.open_channel();
  if (!r) return std::move(r).error();
  ch = *r;
  return {};
}

std::string random_id() {
  std::random_device rd;
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(kHex[rd() % 16]);
  return s;
}

}  // namespace

Status setup_topology(Run& run) {
  const PerfOptions& o = run.o;
  auto conn = connect(o, "pulse-perf setup");
  if (!conn) return std::move(conn).error();
  auto chr = (*conn)->open_channel();
  if (!chr) return std::move(chr).error();
  Channel* ch = *chr;
  const std::string id = random_id();

  // The exchange: the predeclared amq.* ones and the default exchange are used as they are;
  // another name is used if it exists, else declared with -t.
  run.exchange = o.exchange;
  if (!o.exchange.empty() && o.exchange.rfind("amq.", 0) != 0) {
    client::ExchangeOptions passive;
    passive.passive = true;
    if (auto st = ch->exchange_declare(o.exchange, o.exchange_type, passive); !st) {
      if (st.error().code != amqp::kNotFound) return st;
      if (auto re = reopen(**conn, ch); !re) return re;
      client::ExchangeOptions eo;
      eo.durable = o.persistent;
      if (auto d = ch->exchange_declare(o.exchange, o.exchange_type, eo); !d) return d;
      run.exchange_created = true;
    }
  }

  const int n = o.queues;
  for (int i = 0; i < n; ++i) {
    std::string name = o.queue.empty() ? "pulse-perf-" + id : o.queue;
    if (n > 1) name += "-" + std::to_string(i + 1);
    bool created = false;
    if (!o.queue.empty()) {
      client::QueueOptions passive;
      passive.passive = true;
      auto r = ch->queue_declare(name, passive);
      if (!r && r.error().code != amqp::kNotFound) return std::move(r).error();
      if (!r) {
        if (auto re = reopen(**conn, ch); !re) return re;
        created = true;
      }
    } else {
      created = true;
    }
    if (created) {
      client::QueueOptions qo;
      qo.durable = o.persistent;
      qo.arguments = o.queue_args;
      auto r = ch->queue_declare(name, qo);
      if (!r) return std::move(r).error();
    }
    run.queue_names.push_back(name);
    run.queue_created.push_back(created);
  }

  // Routing: with the default exchange the routing key is the queue name; otherwise every
  // queue is bound with the run's key (fan-out), or with key.<i> under --spread.
  const std::string base_key = !o.routing_key.empty() ? o.routing_key : "pulse-perf-" + id;
  std::vector<std::string> keys;
  for (int i = 0; i < n; ++i) {
    std::string key;
    if (run.exchange.empty()) {
      key = run.queue_names[i];
    } else {
      key = o.spread && n > 1 ? base_key + "." + std::to_string(i + 1) : base_key;
      if (auto st = ch->queue_bind(run.queue_names[i], run.exchange, key); !st) return st;
    }
    keys.push_back(key);
  }
  for (size_t index = 0; index < run.producers.size(); ++index) {
    ProducerState* p = run.producers[index].get();
    if (o.spread || n == 1) {
      const size_t q = index % n;
      p->routing_key = keys[q];
      p->queues = {q};
    } else {
      p->routing_key = keys[0];
      for (int q = 0; q < n; ++q) p->queues.push_back(q);
    }
  }
  return (*conn)->close();
}

void cleanup_topology(Run& run) {
  const bool any =
      run.exchange_created || std::find(run.queue_created.begin(), run.queue_created.end(), true) !=
                                  run.queue_created.end();
  if (!any) return;
  auto conn = connect(run.o, "pulse-perf cleanup");
  if (!conn) return run.fail("cleanup: " + conn.error().text);
  auto ch = (*conn)->open_channel();
  if (!ch) return run.fail("cleanup: " + ch.error().text);
  for (size_t i = 0; i < run.queue_names.size(); ++i) {
    if (!run.queue_created[i]) continue;
    if (auto r = (*ch)->queue_delete(run.queue_names[i]); !r) {
      return run.fail("cleanup: deleting queue " + run.queue_names[i] + ": " + r.error().text);
    }
  }
  if (run.exchange_created) {
    if (auto st = (*ch)->exchange_delete(run.exchange); !st) {
      return run.fail("cleanup: deleting exchange " + run.exchange + ": " + st.error().text);
    }
  }
  (void)(*conn)->close();
}

}  // namespace pulse::perf
