#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <set>

#include "pulse/push/engine.h"

namespace pulse::push {
namespace {

using namespace std::chrono_literals;

// The broker side in memory: a queue of messages per subscription.
struct FakeSource : Source {
  std::set<std::string> exchanges{"exchange/a/x"};
  std::map<std::string, std::deque<PushMessage>> queues;  // by queue name
  std::map<std::string, bool> held;
  Status check(const std::string&, const std::string& exchange) override {
    if (!exchanges.contains(exchange)) return Error{404, "no exchange '" + exchange + "'"};
    return {};
  }
  Status open(const Subscription& s) override {
    queues[s.queue()];
    return {};
  }
  Result<std::optional<PushMessage>> next(const Subscription& s) override {
    auto it = queues.find(s.queue());
    if (it == queues.end()) return Error{404, "no queue"};
    if (it->second.empty()) return std::optional<PushMessage>();
    held[s.id] = true;
    return std::optional<PushMessage>(it->second.front());
  }
  void ack(const Subscription& s) override {
    if (held[s.id]) queues[s.queue()].pop_front();
    held[s.id] = false;
  }
  void release(const Subscription& s) override { held[s.id] = false; }
  Status remove(const Subscription& s) override {
    held[s.id] = false;
    return queues.erase(s.queue()) ? Status() : Status(Error{404, "no queue"});
  }
  std::optional<uint64_t> depth(const Subscription& s) override {
    auto it = queues.find(s.queue());
    if (it == queues.end()) return std::nullopt;
    return it->second.size();
  }
  void publish(const Subscription& s, std::string key) {
    queues[s.queue()].push_back(
        PushMessage{"exchange/a/x", std::move(key), false, nlohmann::json::object(), "{}"});
  }
};

struct FakeTransport : Transport {
  std::deque<Job> jobs;
  void start(Job job) override { jobs.push_back(std::move(job)); }
  Job take() {
    EXPECT_FALSE(jobs.empty());
    Job j = jobs.front();
    jobs.pop_front();
    return j;
  }
};

std::string challenge_of(const Job& j) {
  const auto at = j.url.find("hub.challenge=");
  return j.url.substr(at + 14, 32);
}

Outcome answer(const Job& j, unsigned status, std::string body = {}) {
  return Outcome{j.id, true, status, std::move(body), {}};
}

class EngineTest : public ::testing::Test {
 protected:
  EngineTest() { make(); }
  void make() {
    Settings s;
    s.retry = BackoffOptions{1000ms, 4000ms, 2.0, 0.0};
    s.limits.max_per_owner = 2;
    engine = std::make_unique<Engine>(source, http, store, s, [this] { return now; });
  }
  Request request(std::string topic = "a.#", uint64_t lease = 60) {
    Request r;
    r.exchange = "exchange/a/x";
    r.topic = std::move(topic);
    r.callback = "http://h.example/cb";
    r.secret = "k";
    r.lease_seconds = lease;
    return r;
  }
  // A subscription verified and active.
  std::string active(std::string topic = "a.#", uint64_t lease = 60) {
    auto made = engine->subscribe("ann", request(std::move(topic), lease));
    EXPECT_TRUE(made);
    const std::string id = made->subscription->id;
    engine->poll();
    Job v = http.take();
    EXPECT_EQ(v.kind, Job::Kind::kVerify);
    engine->complete(answer(v, 200, challenge_of(v) + "\n"));
    EXPECT_EQ(engine->find(id)->state, State::kActive);
    return id;
  }

  TimePoint now = TimePoint(std::chrono::seconds(1900000000));
  FakeSource source;
  FakeTransport http;
  accounts::MemoryAccountStore store;
  std::unique_ptr<Engine> engine;
};

TEST_F(EngineTest, VerifiesThenDeliversInOrderSigned) {
  auto made = engine->subscribe("ann", request());
  ASSERT_TRUE(made);
  const auto* s = made->subscription;
  EXPECT_EQ(s->state, State::kVerifying);
  engine->poll();
  Job v = http.take();
  EXPECT_EQ(v.method, "GET");
  EXPECT_NE(v.url.find("http://h.example/cb?hub.mode=subscribe&hub.topic=a.%23&hub.challenge="),
            std::string::npos)
      << v.url;
  EXPECT_NE(v.url.find("&hub.lease_seconds=60"), std::string::npos);
  engine->complete(answer(v, 200, challenge_of(v)));
  EXPECT_EQ(s->state, State::kActive);
  EXPECT_EQ(s->expires, now + 60s);

  source.publish(*s, "a.1");
  source.publish(*s, "a.2");
  engine->poll();
  Job d1 = http.take();
  EXPECT_EQ(d1.method, "POST");
  EXPECT_TRUE(http.jobs.empty());  // one at a time
  EXPECT_NE(d1.body.find("\"routing_key\":\"a.1\""), std::string::npos);
  bool signed_ok = false;
  for (const auto& [k, val] : d1.headers)
    signed_ok = signed_ok || (k == "X-Hub-Signature-256" && val == signature("k", d1.body));
  EXPECT_TRUE(signed_ok);
  engine->complete(answer(d1, 204));
  engine->poll();
  Job d2 = http.take();
  EXPECT_NE(d2.body.find("\"routing_key\":\"a.2\""), std::string::npos);
  engine->complete(answer(d2, 200));
  EXPECT_EQ(s->delivered, 2u);
  EXPECT_EQ(engine->depth(*s), 0u);
}

TEST_F(EngineTest, RefusedChallengeFails) {
  auto made = engine->subscribe("ann", request());
  engine->poll();
  Job v = http.take();
  engine->complete(answer(v, 200, "something else"));
  EXPECT_EQ(made->subscription->state, State::kFailed);
  EXPECT_EQ(made->subscription->reason,
            "verification failed: the callback did not echo the challenge");
  EXPECT_TRUE(source.queues.empty());
  auto other = engine->subscribe("ann", request("b"));
  engine->poll();
  engine->complete(Outcome{http.take().id, false, 0, {}, "connection refused"});
  EXPECT_EQ(other->subscription->reason, "verification failed: unreachable: connection refused");
}

TEST_F(EngineTest, RetriesTheSameMessageWithGrowingDelays) {
  const auto id = active();
  const auto* s = engine->find(id);
  source.publish(*s, "a.1");
  engine->poll();
  Job first = http.take();
  std::vector<std::chrono::milliseconds> gaps;
  TimePoint failed_at = now;
  engine->complete(answer(first, 503));
  for (int attempt = 0; attempt < 4; ++attempt) {
    // Not before the back-off says.
    TimePoint due = engine->poll();
    EXPECT_TRUE(http.jobs.empty());
    gaps.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(due - failed_at));
    now = due;
    engine->poll();
    Job again = http.take();
    EXPECT_EQ(again.body, first.body);
    failed_at = now;
    engine->complete(attempt < 3 ? answer(again, 500) : answer(again, 200));
  }
  EXPECT_EQ(gaps, (std::vector<std::chrono::milliseconds>{1000ms, 2000ms, 4000ms, 4000ms}));
  EXPECT_EQ(s->failed, 4u);
  EXPECT_EQ(s->delivered, 1u);
  EXPECT_EQ(s->last_error, "HTTP 500");
  EXPECT_FALSE(engine->in_retry(id));
}

TEST_F(EngineTest, LeaseEndDeletesTheQueueAndSaysUnsubscribe) {
  const auto id = active("a.#", 30);
  const auto* s = engine->find(id);
  const std::string queue = s->queue();
  now += 29s;
  engine->poll();
  EXPECT_EQ(s->state, State::kActive);
  EXPECT_TRUE(http.jobs.empty());
  now += 1s;
  engine->poll();
  EXPECT_EQ(s->state, State::kEnded);
  EXPECT_EQ(s->reason, "lease expired");
  EXPECT_FALSE(source.queues.contains(queue));
  Job bye = http.take();
  EXPECT_NE(bye.url.find("hub.mode=unsubscribe"), std::string::npos);
  // Listed for a day, then purged.
  now += 24h + 1s;
  engine->poll();
  EXPECT_EQ(engine->find(id), nullptr);
  EXPECT_TRUE(store.records().empty());
}

TEST_F(EngineTest, GoneEndsAndRenewalExtends) {
  const auto id = active();
  const auto* s = engine->find(id);
  now += 10s;
  auto again = engine->subscribe("ann", request("a.#", 100));
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->renewal);
  EXPECT_EQ(again->subscription->id, id);
  engine->poll();
  Job v = http.take();
  EXPECT_NE(v.url.find("hub.lease_seconds=100"), std::string::npos);
  engine->complete(answer(v, 200, challenge_of(v)));
  EXPECT_EQ(s->expires, now + 100s);
  EXPECT_EQ(s->lease_seconds, 100u);

  source.publish(*s, "a.1");
  engine->poll();
  engine->complete(answer(http.take(), 410));
  EXPECT_EQ(s->state, State::kEnded);
  EXPECT_EQ(s->reason, "the callback answered 410 Gone");
}

TEST_F(EngineTest, LimitsAndMissingExchange) {
  active("a");
  active("b");
  auto third = engine->subscribe("ann", request("c"));
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().code, 409);
  EXPECT_TRUE(engine->subscribe("bob", request("c")));
  auto r = request();
  r.exchange = "exchange/none";
  auto missing = engine->subscribe("bob", r);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, 404);
}

TEST_F(EngineTest, ARestartKeepsSubscriptionsAndRetriesTheHeldMessage) {
  const auto id = active();
  const auto* s = engine->find(id);
  source.publish(*s, "a.1");
  engine->poll();
  Job d = http.take();
  engine->stop();  // the held message goes back
  engine->complete(answer(d, 200));
  EXPECT_EQ(source.queues[s->queue()].size(), 1u);

  make();  // a new engine over the same store
  ASSERT_TRUE(engine->load());
  const auto* back = engine->find(id);
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(back->state, State::kActive);
  engine->poll();
  Job again = http.take();
  EXPECT_EQ(again.body, d.body);
  engine->complete(answer(again, 200));
  EXPECT_EQ(source.queues[back->queue()].size(), 0u);
  ASSERT_TRUE(engine->unsubscribe(id));
  EXPECT_EQ(engine->find(id), nullptr);
  EXPECT_FALSE(engine->unsubscribe(id));
}

TEST(PushSettings, KeysAreValidated) {
  Settings s;
  EXPECT_TRUE(apply_setting(s, "pulse.push.retry_max_ms", "2000"));
  EXPECT_EQ(s.retry.max, std::chrono::milliseconds(2000));
  EXPECT_TRUE(apply_setting(s, "pulse.push.max_lease", "3600"));
  EXPECT_EQ(s.limits.default_lease_seconds, 3600u);
  EXPECT_EQ(apply_setting(s, "pulse.push.workers", "0").error().text,
            "pulse.push.workers must be a whole number from 1 to 64");
  EXPECT_EQ(apply_setting(s, "pulse.push.colour", "1").error().text,
            "unknown setting 'pulse.push.colour'");
}

}  // namespace
}  // namespace pulse::push
