// GuardianRunner over a scripted BrokerAdmin: what it asks the broker, what reaches the sinks,
// and how long it says to wait, poll after poll.
#include "pulse/guardian_run/runner.h"

#include <gtest/gtest.h>

#include "../guardian/policy_tables.h"
#include "fake_admin.h"
#include "pulse/guardian/notice_text.h"

namespace pulse::guardian {
namespace test_support {
void RecordingSink::send(const Notice& n) {
  std::string what = n.event == Event::kConnectionClosed
                         ? n.connection
                         : n.queue + " messages=" + std::to_string(n.messages);
  got.push_back(notice_routing_key(n) + " " + what);
}
}  // namespace test_support

namespace {

using namespace test_support;
using std::chrono::seconds;
using Strings = std::vector<std::string>;

GuardianSettings small() {
  GuardianSettings s;
  s.enabled = true;
  s.interval = seconds(5);
  s.thresholds = {5, 10};
  return s;
}

struct Fixture {
  FakeAdmin admin;
  RecordingSink first, second;
  GuardianRunner runner;
  explicit Fixture(GuardianSettings s = small()) : runner(admin, std::move(s), {&first, &second}) {}
};

TEST(GuardianRunner, WarnsThenDeletesAndEverySinkHearsInOrder) {
  Fixture f;
  f.admin.queues = {queue("queue/alice/q1", 3), queue("other", 0)};
  EXPECT_EQ(f.runner.poll(at(0)), seconds(5));
  EXPECT_TRUE(f.first.got.empty());

  f.admin.set_size("queue/alice/q1", 6);
  EXPECT_EQ(f.runner.poll(at(5)), seconds(5));
  f.admin.set_size("queue/alice/q1", 11);
  EXPECT_EQ(f.runner.poll(at(10)), seconds(5));
  EXPECT_EQ(f.first.got, (Strings{"warning.alice queue/alice/q1 messages=6",
                                  "deleted.alice queue/alice/q1 messages=11"}));
  EXPECT_EQ(f.second.got, f.first.got);
  EXPECT_EQ(f.admin.calls,
            (Strings{"list_queues", "list_queues", "list_queues",
                     "delete / queue/alice/q1: Pulse guardian: 11 messages, over the deletion "
                     "threshold of 10"}));
  EXPECT_EQ(f.admin.queues.size(), 1u);  // "other" stays
  EXPECT_EQ(f.runner.stats().queues_deleted, 1u);
  EXPECT_EQ(f.runner.stats().notices, 2u);
}

TEST(GuardianRunner, ANewIntervalIsToldAtOnceAndTheNextPollWaitsIt) {
  Fixture f;
  std::vector<seconds> told;
  f.runner.on_interval_change([&](seconds s) { told.push_back(s); });
  GuardianSettings same = small();
  same.thresholds = {6, 12};  // thresholds only: the loop's wait stays as it is
  f.runner.set_settings(same);
  EXPECT_TRUE(told.empty());
  GuardianSettings faster = small();
  faster.interval = seconds(1);
  f.runner.set_settings(faster);
  EXPECT_EQ(told, (std::vector<seconds>{seconds(1)}));
  EXPECT_EQ(f.runner.poll(at(0)), seconds(1));
}

TEST(GuardianRunner, ConnectionsAreListedOnlyWhenMaxConnectionAgeIsOn) {
  Fixture off;
  off.admin.connections = {connection("c1", "bob", -100000)};
  off.runner.poll(at(0));
  EXPECT_EQ(off.admin.calls, (Strings{"list_queues"}));

  GuardianSettings s = small();
  s.max_connection_age = seconds(60);
  Fixture on(s);
  on.admin.connections = {connection("young", "ann", -30), connection("old", "bob", -61)};
  on.runner.poll(at(0));
  EXPECT_EQ(
      on.admin.calls,
      (Strings{"list_queues", "list_connections",
               "close old: Pulse guardian: connection older than max_connection_age (60 s)"}));
  EXPECT_EQ(on.first.got, (Strings{"connection_closed.bob old"}));
  EXPECT_EQ(on.admin.connections.size(), 1u);
  EXPECT_EQ(on.runner.stats().connections_closed, 1u);
}

TEST(GuardianRunner, AnUnreachableBrokerBacksOffUntilAPollSucceeds) {
  Fixture f;
  f.admin.queues = {queue("queue/alice/q1", 6)};
  f.admin.list_queues_error = Error{admin::kUnavailable, "connection refused"};
  EXPECT_EQ(f.runner.poll(at(0)), seconds(10));
  EXPECT_EQ(f.runner.poll(at(10)), seconds(15));
  EXPECT_EQ(f.runner.poll(at(25)), seconds(20));
  EXPECT_TRUE(f.first.got.empty());
  EXPECT_EQ(f.runner.stats().failed_polls, 3u);

  f.admin.list_queues_error.reset();
  EXPECT_EQ(f.runner.poll(at(45)), seconds(5));
  EXPECT_EQ(f.first.got, (Strings{"warning.alice queue/alice/q1 messages=6"}));
}

TEST(GuardianRunner, AnyListingFailureIsAFailedPoll) {
  GuardianSettings s = small();
  s.max_connection_age = seconds(60);
  Fixture f(s);
  f.admin.queues = {queue("queue/alice/q1", 11)};
  f.admin.list_connections_error = Error{401, "not authorised"};
  EXPECT_EQ(f.runner.poll(at(0)), seconds(10));
  // Nothing observed, nothing done: the queue is judged at the next good poll.
  EXPECT_EQ(f.admin.calls, (Strings{"list_queues", "list_connections"}));
  EXPECT_TRUE(f.first.got.empty());
}

TEST(GuardianRunner, ADeleteThatFindsNothingIsDone) {
  Fixture f;
  f.admin.queues = {queue("queue/alice/q1", 11)};
  f.admin.delete_errors["queue/alice/q1"] = Error{admin::kNotFound, "no queue"};
  EXPECT_EQ(f.runner.poll(at(0)), seconds(5));
  EXPECT_EQ(f.first.got, (Strings{"deleted.alice queue/alice/q1 messages=11"}));
  EXPECT_EQ(f.runner.stats().command_failures, 0u);
}

TEST(GuardianRunner, ARefusedDeleteHoldsItsNoticeUntilARepeatSucceeds) {
  Fixture f;
  f.admin.queues = {queue("queue/alice/q1", 11)};
  f.admin.delete_errors["queue/alice/q1"] = Error{405, "RESOURCE_LOCKED - exclusive queue"};
  EXPECT_EQ(f.runner.poll(at(0)), seconds(5));
  EXPECT_EQ(f.runner.poll(at(5)), seconds(5));
  // "has been deleted" would be false: nobody is told yet.
  EXPECT_TRUE(f.first.got.empty());
  EXPECT_EQ(f.runner.stats().command_failures, 2u);

  f.admin.delete_errors.clear();
  f.admin.set_size("queue/alice/q1", 12);
  EXPECT_EQ(f.runner.poll(at(10)), seconds(5));
  EXPECT_EQ(f.first.got, (Strings{"deleted.alice queue/alice/q1 messages=11"}));
  EXPECT_TRUE(f.admin.queues.empty());
  EXPECT_EQ(f.runner.poll(at(15)), seconds(5));
  EXPECT_EQ(f.first.got.size(), 1u);
}

TEST(GuardianRunner, AHeldNoticeIsDroppedWhenTheQueueGoesAnotherWay) {
  Fixture f;
  f.admin.queues = {queue("queue/alice/q1", 11)};
  f.admin.delete_errors["queue/alice/q1"] = Error{405, "RESOURCE_LOCKED - exclusive queue"};
  f.runner.poll(at(0));
  // Its owner deleted it (or the connection owning it went): the guardian did not.
  f.admin.queues.clear();
  f.runner.poll(at(5));
  f.admin.delete_errors.clear();
  f.admin.queues = {queue("queue/alice/q1", 0)};
  f.runner.poll(at(10));
  EXPECT_TRUE(f.first.got.empty());
}

TEST(GuardianRunner, LosingTheBrokerMidPollStopsTheCommandsButNotTheWarnings) {
  Fixture f;
  f.admin.queues = {queue("queue/a/big", 11), queue("queue/b/big", 11), queue("queue/c/q", 6)};
  f.admin.delete_errors["queue/a/big"] = Error{admin::kUnavailable, "connection reset"};
  EXPECT_EQ(f.runner.poll(at(0)), seconds(10));
  // b's delete was not tried; c's warning went out (the policy would not repeat it).
  EXPECT_EQ(f.admin.calls,
            (Strings{"list_queues",
                     "delete / queue/a/big: Pulse guardian: 11 messages, over the deletion "
                     "threshold of 10"}));
  EXPECT_EQ(f.first.got, (Strings{"warning.c queue/c/q messages=6"}));

  f.admin.delete_errors.clear();
  EXPECT_EQ(f.runner.poll(at(10)), seconds(5));
  EXPECT_EQ(f.first.got,
            (Strings{"warning.c queue/c/q messages=6", "deleted.a queue/a/big messages=11",
                     "deleted.b queue/b/big messages=11"}));
  EXPECT_EQ(f.admin.queues.size(), 1u);
}

TEST(GuardianRunner, ARefusedCloseHoldsItsNoticeToo) {
  GuardianSettings s = small();
  s.max_connection_age = seconds(60);
  Fixture f(s);
  f.admin.connections = {connection("old", "bob", -61)};
  f.admin.close_errors["old"] = Error{500, "internal error"};
  f.runner.poll(at(0));
  EXPECT_TRUE(f.first.got.empty());
  f.admin.close_errors.clear();
  f.runner.poll(at(5));
  EXPECT_EQ(f.first.got, (Strings{"connection_closed.bob old"}));
  EXPECT_TRUE(f.admin.connections.empty());
}

class ThrowingSink : public NoticeSink {
 public:
  void send(const Notice&) override { throw std::runtime_error("boom"); }
};

TEST(GuardianRunner, AThrowingSinkDoesNotStopTheOthers) {
  FakeAdmin admin;
  ThrowingSink bad;
  RecordingSink good;
  GuardianRunner runner(admin, small(), {&bad, &good});
  admin.queues = {queue("queue/alice/q1", 6)};
  EXPECT_EQ(runner.poll(at(0)), seconds(5));
  EXPECT_EQ(good.got, (Strings{"warning.alice queue/alice/q1 messages=6"}));
}

TEST(GuardianRunner, NewSettingsApplyFromTheNextPoll) {
  Fixture f;
  f.admin.queues = {queue("queue/alice/q1", 6)};
  f.runner.poll(at(0));
  GuardianSettings s = small();
  s.interval = seconds(2);
  s.thresholds = {50, 100};
  f.runner.set_settings(s);
  EXPECT_EQ(f.runner.poll(at(5)), seconds(2));
  EXPECT_EQ(f.first.got, (Strings{"warning.alice queue/alice/q1 messages=6",
                                  "back_to_normal.alice queue/alice/q1 messages=6"}));
}

}  // namespace
}  // namespace pulse::guardian
