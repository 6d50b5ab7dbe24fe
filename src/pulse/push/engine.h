#pragma once
// The push engine, sans-IO: the subscriptions, their state machine (verifying -> active ->
// ended, or failed), leases, the retry schedule and what to send. The I/O is behind two small
// interfaces the host implements: a Source (the broker: each subscription's durable queue) and
// a Transport (outgoing HTTP, run off the owner's thread). The host calls poll() when it said
// to, and complete() with each job's outcome; nothing here blocks or sleeps.
//
// Thread: one owner thread (pulsed's event loop; pulse-guardian's loop). The Transport's
// work runs elsewhere, but its outcomes come back to the owner through complete().
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pulse/accounts/account_store.h"
#include "pulse/backoff.h"
#include "pulse/push/message.h"
#include "pulse/push/model.h"

namespace pulse::push {

// The broker side. Error codes: 404 the vhost, exchange or queue does not exist; anything else
// is a failure worth retrying (503: the broker could not be reached).
class Source {
 public:
  virtual ~Source() = default;
  // Whether `exchange` exists in `vhost` (may ask the broker, bounded by its timeout).
  virtual Status check(const std::string& vhost, const std::string& exchange) = 0;
  // Declares the subscription's durable queue and binds it; declaring again is harmless.
  virtual Status open(const Subscription& s) = 0;
  // The queue's head message, held unacknowledged until ack() or release(); nullopt: empty.
  virtual Result<std::optional<PushMessage>> next(const Subscription& s) = 0;
  virtual void ack(const Subscription& s) = 0;
  // Gives a held message back to its queue, first in line (shutdown).
  virtual void release(const Subscription& s) = 0;
  // Deletes the queue and what it holds.
  virtual Status remove(const Subscription& s) = 0;
  // Messages in the queue (ready and held); nullopt when unknown.
  virtual std::optional<uint64_t> depth(const Subscription& s) = 0;
};

struct Job {
  enum class Kind { kVerify, kDeliver, kUnsubscribe };
  uint64_t id = 0;
  std::string subscription;
  Kind kind = Kind::kDeliver;
  std::string method;  // GET (verify, unsubscribe), POST (deliver)
  std::string url;     // the callback, with the hub.* query for GETs
  std::string body{};
  std::vector<std::pair<std::string, std::string>> headers{};
};

struct Outcome {
  uint64_t job = 0;
  bool reached = false;  // an HTTP answer came back
  unsigned status = 0;
  std::string body;   // the answer's (a verification's challenge)
  std::string error;  // why nothing came back
};

// Runs jobs off the owner's thread; each outcome goes back through Engine::complete.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual void start(Job job) = 0;
};

struct Settings {
  Limits limits;
  // Delivery retries: 1 s doubling to 5 min, jittered down by up to a fifth.
  BackoffOptions retry{std::chrono::milliseconds(1000), std::chrono::milliseconds(300000), 2.0,
                       0.2};
  // How often an idle active subscription looks at its queue again.
  std::chrono::milliseconds idle_poll{250};
  // Failed and ended subscriptions stay listed this long.
  std::chrono::seconds keep_ended{24 * 3600};
  // Delivery counts are written to the store at most this often (and at state changes).
  std::chrono::seconds save_counts{5};
  // The host's: worker threads sending to callbacks, and each exchange's deadline.
  unsigned workers = 4;
  std::chrono::milliseconds timeout{10000};
};

// Applies one `pulse.push.<name>` key (pulsed's configuration; pulse-guardian's options):
//   max_subscriptions_per_owner  1 .. 10000
//   max_lease                    seconds, 60 .. 31622400 (a year)
//   max_body                     bytes, 1024 .. 134217728
//   retry_initial_ms, retry_max_ms  the delivery back-off, 10 .. 86400000
//   workers                      1 .. 64
//   timeout                      seconds, 1 .. 300
// An unknown key or a bad value is refused with a text naming the key, and changes nothing.
Status apply_setting(Settings& settings, std::string_view key, std::string_view value);

class Engine {
 public:
  // `source`, `transport` and `store` must outlive the engine. `clock`: "now" (tests set it).
  Engine(Source& source, Transport& transport, accounts::AccountStore& store, Settings settings,
         std::function<TimePoint()> clock = {});

  // Reads the stored subscriptions (an error: a damaged record). Active ones re-open their
  // queue at the next poll; verifying ones verify again.
  Status load();

  // A new subscription (verifying; 202), or the renewal of the caller's own with the same
  // vhost, exchange, topic and callback (verified again, then the new lease and secret apply).
  // Errors: 400 (limits), 404 (no such exchange or vhost), 409 (too many subscriptions).
  struct Subscribed {
    const Subscription* subscription;
    bool renewal = false;
  };
  Result<Subscribed> subscribe(const std::string& caller, const Request& r);
  // Ends it now: its queue is deleted, the record removed. 404 when unknown.
  Status unsubscribe(const std::string& id);

  const Subscription* find(const std::string& id) const;
  std::vector<const Subscription*> list() const;  // by creation time, then id
  std::optional<uint64_t> depth(const Subscription& s) { return source_.depth(s); }
  bool in_retry(const std::string& id) const;

  // Does what is due (verifications, deliveries, retries, lease ends, purges); returns when
  // to be called next at the latest (any complete() or subscribe() may make it sooner).
  TimePoint poll();
  void complete(const Outcome& outcome);
  // Held messages back to their queues, counts saved; the engine is idle afterwards.
  void stop();

  const Settings& settings() const { return settings_; }
  void set_settings(Settings s) { settings_ = std::move(s); }

 private:
  struct Entry {
    Subscription sub;
    bool opened = false;
    std::optional<uint64_t> in_flight{};  // the job under way
    std::optional<std::string> held{};    // the body of a message taken and not yet acked
    uint64_t deliveries = 0;              // X-Pulse-Delivery numbers within this run
    TimePoint next_attempt{};
    Backoff backoff;
    std::string challenge{};
    std::optional<Request> renewal{};
    bool dirty = false;
  };

  void step(Entry& e, TimePoint now);
  void start_verify(Entry& e, const std::string& secret, uint64_t lease);
  void start_deliver(Entry& e);
  void end(Entry& e, State state, std::string reason, TimePoint now);
  void save(Entry& e);
  void on_verified(Entry& e, const Outcome& o, TimePoint now);
  void on_delivered(Entry& e, const Outcome& o, TimePoint now);
  uint64_t send(Entry& e, Job job);

  Source& source_;
  Transport& transport_;
  accounts::AccountStore& store_;
  Settings settings_;
  std::function<TimePoint()> clock_;
  std::map<std::string, Entry> entries_;
  std::map<uint64_t, std::string> jobs_;  // job id -> subscription id
  uint64_t next_job_ = 1;
  TimePoint last_save_{};
  bool stopped_ = false;
};

// "200", "unreachable: ...": how an outcome reads in last_error.
std::string describe(const Outcome& o);

}  // namespace pulse::push
