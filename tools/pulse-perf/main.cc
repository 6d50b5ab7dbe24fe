// pulse-perf: AMQP 0-9-1 load generator and verifier, flags after RabbitMQ PerfTest and
// lavinmqperf. See README.md.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>

#include "body.h"
#include "run.h"

namespace {

void on_signal(int) {
  pulse::perf::g_interrupted = true;
}

// Many idle connections need many descriptors.
void raise_fd_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

}  // namespace

int main(int argc, char** argv) {
  using pulse::perf::PerfOptions;
  PerfOptions o;
  std::vector<std::string> queue_args, flags;
  CLI::App app{"pulse-perf: AMQP 0-9-1 load generator that verifies every message"};
  app.add_option("--uri", o.uri, "amqp://user:pass@host:port/vhost")->capture_default_str();
  app.add_option("-x,--producers", o.producers, "producers, one connection each")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  app.add_option("-y,--consumers", o.consumers, "consumers, one connection each")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  app.add_option("-s,--size", o.size, "message size in bytes (at least 12)")->capture_default_str();
  app.add_option("-z,--time", o.seconds, "run time in seconds (0 = until -C/-D or Ctrl-C)");
  app.add_option("-u,--queue", o.queue, "queue name (default: generated, deleted afterwards)");
  app.add_option("-e,--exchange", o.exchange, "exchange ('' = default exchange)")
      ->capture_default_str();
  app.add_option("-t,--type", o.exchange_type, "exchange type when it must be declared")
      ->capture_default_str();
  app.add_option("-k,--routing-key", o.routing_key, "routing key (default: generated)");
  app.add_option("-q,--qos", o.prefetch, "consumer prefetch (0 = unlimited)");
  app.add_flag("-a,--autoack", o.auto_ack, "consume with no-ack");
  app.add_option("-A,--multi-ack-every", o.multi_ack, "ack every N deliveries (multiple=true)");
  app.add_option("-c,--confirm", o.confirm, "publisher confirms, at most N unconfirmed");
  app.add_flag("-p,--persistent", o.persistent, "persistent messages and durable queues");
  app.add_option("-f,--flag", flags, "message flags: persistent, mandatory");
  app.add_option("-r,--rate", o.rate, "publishing rate limit per producer (msg/s)");
  app.add_option("-C,--pmessages", o.producer_messages, "messages per producer");
  app.add_option("-D,--cmessages", o.consumer_messages,
                 "messages per consumer (turns off the loss check)");
  app.add_flag("-l,--latency", o.latency, "measure latency percentiles");
  app.add_flag("--json", o.json, "print the final summary as one JSON object on stdout");
  app.add_option("--queues", o.queues, "number of queues; each message reaches every queue")
      ->check(CLI::Range(1, 1000000));
  app.add_flag("--spread", o.spread, "with --queues: producer i publishes to queue i % N only");
  app.add_option("--queue-args", queue_args,
                 "queue arguments, e.g. x-max-length=10,x-overflow=drop-head");
  app.add_option("-L,--consumer-latency", o.consumer_latency_us,
                 "consumer processing time per message in microseconds");
  app.add_option("--drain-timeout", o.drain_timeout,
                 "after producing, wait this long without progress for missing messages")
      ->capture_default_str();
  app.add_option("-i,--interval", o.interval, "seconds between progress lines")
      ->capture_default_str();
  app.add_option("--churn", o.churn, "churn scenario instead of a load run (uses -x workers)")
      ->check(CLI::IsMember({"declare", "bind", "connect", "channel"}));
  app.add_option("--connections", o.idle_connections, "hold N extra idle connections open");
  app.add_option("--idle-queues", o.idle_queues, "declare N extra idle queues for the run");
  CLI11_PARSE(app, argc, argv);

  for (const auto& f : flags) {
    if (f == "persistent") {
      o.persistent = true;
    } else if (f == "mandatory") {
      o.mandatory = true;
    } else {
      std::fprintf(stderr, "unknown -f flag '%s' (persistent, mandatory)\n", f.c_str());
      return 2;
    }
  }
  auto usage = [](const std::string& msg) {
    std::fprintf(stderr, "pulse-perf: %s\n", msg.c_str());
    return 2;
  };
  auto conn = pulse::client::parse_uri(o.uri);
  if (!conn) return usage(conn.error().text);
  o.connection = *conn;
  auto args = pulse::perf::parse_queue_args(queue_args);
  if (!args) return usage(args.error().text);
  o.queue_args = *args;
  if (o.size < pulse::perf::kMinBodySize) {
    return usage("-s must be at least 12: the body carries producer, sequence and send time");
  }
  if (o.exchange.empty() && o.queues > 1 && !o.spread) {
    return usage("fan-out to several queues needs an exchange (-e)");
  }
  if (o.producers > static_cast<int>(pulse::perf::kMaxProducerTag) / 2) {
    return usage("too many producers");
  }
  if (o.interval <= 0) return usage("-i must be positive");

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  raise_fd_limit();
  if (!o.churn.empty()) return pulse::perf::run_churn(o);
  return pulse::perf::run_load(o);
}
