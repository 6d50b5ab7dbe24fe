// What the tables leave out: every field of a notice, the commands' reasons, settings changes.
#include <gtest/gtest.h>

#include "policy_tables.h"

namespace pulse::guardian {
namespace {

using namespace test_support;
using std::chrono::seconds;

QueueInfo full_queue(uint64_t ready, uint64_t unacked) {
  QueueInfo q = queue("queue/a.b-c/builds", ready + unacked, 2, "ci");
  q.messages_ready = ready;
  q.messages_unacknowledged = unacked;
  q.durable = true;
  q.bindings = {{"exchange/build/normalized", "build.#"}, {"exchange/hgpushes/v2", "#"}};
  return q;
}

TEST(PolicyNotice, CarriesEverythingAboutTheQueue) {
  GuardianSettings s;
  s.owners["a.b-c"] = OwnerOverride{3000, std::nullopt};
  GuardianPolicy policy(s);
  EXPECT_TRUE(policy.observe(at(0), {full_queue(1000, 0)}, {}).empty());
  auto actions = policy.observe(at(4), {full_queue(3000, 10)}, {});
  ASSERT_EQ(actions.size(), 1u);
  Notice expected;
  expected.event = Event::kWarning;
  expected.at = at(4);
  expected.vhost = "ci";
  expected.owner = "a.b-c";
  expected.queue = "queue/a.b-c/builds";
  expected.messages = 3010;
  expected.messages_ready = 3000;
  expected.messages_unacknowledged = 10;
  expected.growth_rate = 502.5;
  expected.consumers = 2;
  expected.bindings = {{"exchange/build/normalized", "build.#"}, {"exchange/hgpushes/v2", "#"}};
  expected.thresholds = Thresholds{3000, 8000};
  EXPECT_EQ(std::get<Notice>(actions[0]), expected);
}

TEST(PolicyCommands, ReasonsSayWhy) {
  GuardianSettings s;
  s.idle_queue_expiry = seconds(60);
  s.max_connection_age = seconds(3600);
  GuardianPolicy policy(s);
  EXPECT_TRUE(policy.observe(at(0), {queue("queue/x/idle", 1)}, {}).empty());
  auto actions = policy.observe(at(61), {queue("queue/x/idle", 1), queue("queue/x/big", 8001, 1)},
                                {connection("c1", "x", -3601)});
  ASSERT_EQ(actions.size(), 6u);
  EXPECT_EQ(std::get<DeleteQueue>(actions[0]), (DeleteQueue{"/", "queue/x/idle",
                                                            "Pulse guardian: no consumer for 61 s "
                                                            "(idle_queue_expiry 60 s)"}));
  const auto& idle = std::get<Notice>(actions[1]);
  EXPECT_EQ(idle.event, Event::kIdleDeleted);
  EXPECT_EQ(idle.idle_for, seconds(61));
  EXPECT_EQ(idle.idle_queue_expiry, seconds(60));
  EXPECT_EQ(std::get<DeleteQueue>(actions[2]),
            (DeleteQueue{"/", "queue/x/big",
                         "Pulse guardian: 8001 messages, over the deletion threshold of 8000"}));
  EXPECT_EQ(std::get<Notice>(actions[3]).event, Event::kDeleted);
  EXPECT_EQ(std::get<CloseConnection>(actions[4]),
            (CloseConnection{"c1",
                             "Pulse guardian: connection older than max_connection_age "
                             "(3600 s)"}));
  const auto& closed = std::get<Notice>(actions[5]);
  EXPECT_EQ(closed.event, Event::kConnectionClosed);
  EXPECT_EQ(closed.owner, "x");
  EXPECT_EQ(closed.user, "x");
  EXPECT_EQ(closed.vhost, "/");
  EXPECT_EQ(closed.peer, "10.0.0.7:50000");
  EXPECT_EQ(closed.connected_at, at(-3601));
  EXPECT_EQ(closed.connection_age, seconds(3662));
  EXPECT_EQ(closed.max_connection_age, seconds(3600));
}

TEST(PolicySettings, NewThresholdsApplyNextTimeAndKeepWhatWasSeen) {
  GuardianPolicy policy(GuardianSettings{});
  ASSERT_EQ(policy.observe(at(0), {queue("queue/a/q", 2500)}, {}).size(), 1u);  // warned
  GuardianSettings raised;
  raised.thresholds = Thresholds{3000, 9000};
  policy.set_settings(raised);
  EXPECT_EQ(policy.settings().thresholds, (Thresholds{3000, 9000}));
  EXPECT_EQ(describe(policy.observe(at(5), {queue("queue/a/q", 2600)}, {})),
            (std::vector<std::string>{
                "back_to_normal queue/a/q owner=a messages=2600 rate=+20.0 consumers=0"}));
  EXPECT_EQ(describe(policy.observe(at(10), {queue("queue/a/q", 8500)}, {})),
            (std::vector<std::string>{
                "warning queue/a/q owner=a messages=8500 rate=+1180.0 consumers=0"}));
}

TEST(EventName, OneRoutingKeyWordEach) {
  EXPECT_EQ(event_name(Event::kWarning), "warning");
  EXPECT_EQ(event_name(Event::kBackToNormal), "back_to_normal");
  EXPECT_EQ(event_name(Event::kDeleted), "deleted");
  EXPECT_EQ(event_name(Event::kIdleDeleted), "idle_deleted");
  EXPECT_EQ(event_name(Event::kConnectionClosed), "connection_closed");
}

}  // namespace
}  // namespace pulse::guardian
