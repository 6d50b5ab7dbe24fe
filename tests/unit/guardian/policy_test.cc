// The guardian's policy as tables: each case is a settings value and a sequence of observations
// (time, queues with sizes and consumers, connections), each with exactly the actions that must
// come out of it, in order.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "policy_tables.h"

namespace pulse::guardian {
namespace {

using namespace test_support;
using std::chrono::hours;
using std::chrono::seconds;

struct Step {
  int t;  // seconds after kT0
  std::vector<QueueInfo> queues;
  std::vector<ConnectionInfo> connections;
  std::vector<std::string> expect;
};

struct Case {
  std::string name;
  GuardianSettings settings;
  std::vector<Step> steps;
};

GuardianSettings defaults() {
  GuardianSettings s;
  s.enabled = true;
  return s;
}

GuardianSettings with_overrides() {
  GuardianSettings s = defaults();
  s.owners["bob"] = OwnerOverride{std::nullopt, 20000};
  s.owners["carol"] = OwnerOverride{100, 500};
  return s;
}

GuardianSettings with_unbounded() {
  GuardianSettings s = defaults();
  s.unbounded.insert(QueueRef{"/", "queue/alice/archive"});
  s.idle_queue_expiry = seconds(60);
  return s;
}

GuardianSettings with_idle_expiry() {
  GuardianSettings s = defaults();
  s.idle_queue_expiry = seconds(60);
  return s;
}

GuardianSettings with_connection_age() {
  GuardianSettings s = defaults();
  s.max_connection_age = hours(72);
  return s;
}

const char* const kQ = "queue/alice/q";

std::vector<Case> cases() {
  return {
      {"WarnOnceThenBackToNormalThenWarnAgain",
       defaults(),
       {
           {0, {queue(kQ, 100)}, {}, {}},
           {5,
            {queue(kQ, 2001)},
            {},
            {"warning queue/alice/q owner=alice messages=2001 rate=+380.2 consumers=0"}},
           {10, {queue(kQ, 2500)}, {}, {}},
           {15, {queue(kQ, 3000, 2)}, {}, {}},
           {20,
            {queue(kQ, 2000, 2)},
            {},
            {"back_to_normal queue/alice/q owner=alice messages=2000 rate=-200.0 consumers=2"}},
           {25, {queue(kQ, 1500)}, {}, {}},
           {30,
            {queue(kQ, 2001)},
            {},
            {"warning queue/alice/q owner=alice messages=2001 rate=+100.2 consumers=0"}},
       }},
      {"ThresholdsAreExclusive",
       defaults(),
       {
           {0, {queue(kQ, 2000)}, {}, {}},
           {5,
            {queue(kQ, 8000)},
            {},
            {"warning queue/alice/q owner=alice messages=8000 rate=+1200.0 consumers=0"}},
           {10,
            {queue(kQ, 8001)},
            {},
            {"DELETE / queue/alice/q",
             "deleted queue/alice/q owner=alice messages=8001 rate=+0.2 consumers=0"}},
       }},
      {"DeletedOverThresholdThenGoneThenDeclaredAgain",
       defaults(),
       {
           {0, {queue(kQ, 10, 1)}, {}, {}},
           {5,
            {queue(kQ, 9000, 1)},
            {},
            {"DELETE / queue/alice/q",
             "deleted queue/alice/q owner=alice messages=9000 rate=+1798.0 consumers=1"}},
           {10, {}, {}, {}},
           {15, {queue(kQ, 5, 1)}, {}, {}},
           {20,
            {queue(kQ, 2105, 1)},
            {},
            {"warning queue/alice/q owner=alice messages=2105 rate=+420.0 consumers=1"}},
       }},
      {"DeleteRepeatedWhileListedButNotifiedOnce",
       defaults(),
       {
           {0,
            {queue(kQ, 9000)},
            {},
            {"DELETE / queue/alice/q",
             "deleted queue/alice/q owner=alice messages=9000 rate=none consumers=0"}},
           {5, {queue(kQ, 9100)}, {}, {"DELETE / queue/alice/q"}},
           // Below the threshold now: a new queue under the old name, judged afresh (no rate,
           // no back-to-normal for a queue that was deleted).
           {10,
            {queue(kQ, 3000)},
            {},
            {"warning queue/alice/q owner=alice messages=3000 rate=none consumers=0"}},
           {15,
            {queue(kQ, 100)},
            {},
            {"back_to_normal queue/alice/q owner=alice messages=100 rate=-580.0 consumers=0"}},
       }},
      {"JumpPastBothThresholdsIsOnlyADeletion",
       defaults(),
       {
           {0, {queue(kQ, 0)}, {}, {}},
           {1,
            {queue(kQ, 50000)},
            {},
            {"DELETE / queue/alice/q",
             "deleted queue/alice/q owner=alice messages=50000 rate=+50000.0 consumers=0"}},
       }},
      {"UnboundedWarnedOnceNeverDeleted",
       with_unbounded(),
       {
           {0, {queue("queue/alice/archive", 100)}, {}, {}},
           {5,
            {queue("queue/alice/archive", 9000)},
            {},
            {"warning queue/alice/archive owner=alice messages=9000 rate=+1780.0 consumers=0"}},
           {10, {queue("queue/alice/archive", 20000)}, {}, {}},
           {600, {queue("queue/alice/archive", 30000)}, {}, {}},  // idle for 600 s too
           {605,
            {queue("queue/alice/archive", 100)},
            {},
            {"back_to_normal queue/alice/archive owner=alice messages=100 rate=-5980.0 "
             "consumers=0"}},
       }},
      {"UnboundedIsPerVhost",
       with_unbounded(),
       {
           {0,
            {queue("queue/alice/archive", 9000, 1, "other")},
            {},
            {"DELETE other queue/alice/archive",
             "deleted queue/alice/archive owner=alice messages=9000 rate=none consumers=1"}},
       }},
      {"PerOwnerOverrides",
       with_overrides(),
       {
           {0,
            {queue("queue/alice/q", 9000, 1), queue("queue/bob/q", 9000, 1),
             queue("queue/carol/q", 150, 1)},
            {},
            {"DELETE / queue/alice/q",
             "deleted queue/alice/q owner=alice messages=9000 rate=none consumers=1",
             "warning queue/bob/q owner=bob messages=9000 rate=none consumers=1",
             "warning queue/carol/q owner=carol messages=150 rate=none consumers=1"}},
           {10,
            {queue("queue/bob/q", 20001, 1), queue("queue/carol/q", 501, 1)},
            {},
            {"DELETE / queue/bob/q",
             "deleted queue/bob/q owner=bob messages=20001 rate=+1100.1 consumers=1",
             "DELETE / queue/carol/q",
             "deleted queue/carol/q owner=carol messages=501 rate=+35.1 consumers=1"}},
       }},
      {"OutsideTheNamingSchemeWarnedAndDeletedWithoutOwner",
       defaults(),
       {
           {0,
            {queue("orphan", 2500, 1), queue("queue/nobody", 10, 1)},
            {},
            {"warning orphan owner=_ messages=2500 rate=none consumers=1"}},
           {5,
            {queue("orphan", 8001, 1), queue("queue/nobody", 8001, 1)},
            {},
            {"DELETE / orphan", "deleted orphan owner=_ messages=8001 rate=+1100.2 consumers=1",
             "DELETE / queue/nobody",
             "deleted queue/nobody owner=_ messages=8001 rate=+1598.2 consumers=1"}},
       }},
      {"DisappearingResetsTheState",
       defaults(),
       {
           {0,
            {queue(kQ, 2500)},
            {},
            {"warning queue/alice/q owner=alice messages=2500 rate=none consumers=0"}},
           {5, {}, {}, {}},
           {10,
            {queue(kQ, 2500)},
            {},
            {"warning queue/alice/q owner=alice messages=2500 rate=none consumers=0"}},
       }},
      {"SameNameInTwoVhostsAreTwoQueues",
       defaults(),
       {
           {0,
            {queue(kQ, 2500, 1, "a"), queue(kQ, 100, 1, "b")},
            {},
            {"warning queue/alice/q owner=alice messages=2500 rate=none consumers=1"}},
           {5,
            {queue(kQ, 100, 1, "a"), queue(kQ, 2500, 1, "b")},
            {},
            {"back_to_normal queue/alice/q owner=alice messages=100 rate=-480.0 consumers=1",
             "warning queue/alice/q owner=alice messages=2500 rate=+480.0 consumers=1"}},
       }},
      {"ClockSteppedBackGivesNoRate",
       defaults(),
       {
           {10, {queue(kQ, 100)}, {}, {}},
           {5,
            {queue(kQ, 2100)},
            {},
            {"warning queue/alice/q owner=alice messages=2100 rate=none consumers=0"}},
       }},
      {"IdleExpiryCountsFromTheFirstObservationWithoutConsumer",
       with_idle_expiry(),
       {
           {0, {queue("queue/alice/a", 0, 1), queue("queue/alice/b", 0, 0)}, {}, {}},
           {30, {queue("queue/alice/a", 0, 0), queue("queue/alice/b", 0, 1)}, {}, {}},
           {59, {queue("queue/alice/a", 5, 0), queue("queue/alice/b", 0, 0)}, {}, {}},
           {89, {queue("queue/alice/a", 5, 0), queue("queue/alice/b", 0, 0)}, {}, {}},
           {90,
            {queue("queue/alice/a", 5, 0), queue("queue/alice/b", 0, 0)},
            {},
            {"DELETE / queue/alice/a",
             "idle_deleted queue/alice/a owner=alice messages=5 rate=+0.0 consumers=0 idle=60"}},
           {95, {queue("queue/alice/b", 0, 0)}, {}, {}},
           {119,
            {queue("queue/alice/b", 0, 0)},
            {},
            {"DELETE / queue/alice/b",
             "idle_deleted queue/alice/b owner=alice messages=0 rate=+0.0 consumers=0 idle=60"}},
           // Listed again after the deletion: taken for a new queue, its idle clock starts now.
           {124, {queue("queue/alice/b", 0, 0)}, {}, {}},
           {183, {queue("queue/alice/b", 0, 0)}, {}, {}},
           {184,
            {queue("queue/alice/b", 0, 0)},
            {},
            {"DELETE / queue/alice/b",
             "idle_deleted queue/alice/b owner=alice messages=0 rate=+0.0 consumers=0 idle=60"}},
       }},
      {"IdleExpiryOffByDefault",
       defaults(),
       {
           {0, {queue(kQ, 10)}, {}, {}},
           {365 * 24 * 3600, {queue(kQ, 10)}, {}, {}},
       }},
      {"OldConnectionsClosedAndNotifiedOnce",
       with_connection_age(),
       {
           {0,
            {},
            {connection("c-young", "alice", -72 * 3600 + 1),
             connection("c-exact", "alice", -72 * 3600),
             connection("c-old", "bob", -72 * 3600 - 1)},
            {"CLOSE c-old", "connection_closed c-old owner=bob age=259201"}},
           {5,
            {},
            {connection("c-young", "alice", -72 * 3600 + 1),
             connection("c-exact", "alice", -72 * 3600),
             connection("c-old", "bob", -72 * 3600 - 1)},
            {"CLOSE c-young", "connection_closed c-young owner=alice age=259204", "CLOSE c-exact",
             "connection_closed c-exact owner=alice age=259205", "CLOSE c-old"}},
           {10, {}, {connection("c-new", "", 9)}, {}},
       }},
      {"ConnectionAgeOffByDefault",
       defaults(),
       {
           {0, {}, {connection("c", "bob", -365 * 24 * 3600)}, {}},
       }},
  };
}

class PolicyTable : public ::testing::TestWithParam<Case> {};

TEST_P(PolicyTable, ActionsFollowTheTable) {
  const Case& c = GetParam();
  ASSERT_TRUE(validate(c.settings).ok()) << validate(c.settings).error().text;
  GuardianPolicy policy(c.settings);
  for (const auto& step : c.steps) {
    SCOPED_TRACE("t=" + std::to_string(step.t));
    EXPECT_EQ(describe(policy.observe(at(step.t), step.queues, step.connections)), step.expect);
  }
}

INSTANTIATE_TEST_SUITE_P(Guardian, PolicyTable, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace pulse::guardian
