// The pulse.guardian.* keys, as pulsed's config file and pulse-guardian's --config give them.
#include "pulse/guardian/settings_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace pulse::guardian {
namespace {

using std::chrono::seconds;
using Pairs = std::vector<std::pair<std::string, std::string>>;

// The settings, or the first error's text.
Result<GuardianSettings> read(const Pairs& pairs) {
  SettingsReader r;
  for (const auto& [k, v] : pairs) {
    if (auto st = r.apply(k, v); !st) return st.error();
  }
  return r.finish();
}

std::string error_of(const Pairs& pairs) {
  auto r = read(pairs);
  return r ? std::string("(accepted)") : r.error().text;
}

TEST(SettingsReader, NoKeysAreTheDefaults) {
  auto s = read({});
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->enabled);
  EXPECT_EQ(s->interval, seconds(5));
  EXPECT_EQ(s->thresholds, (Thresholds{2000, 8000}));
}

TEST(SettingsReader, EveryKey) {
  auto s = read({{"pulse.guardian.enabled", "true"},
                 {"pulse.guardian.interval", "1"},
                 {"pulse.guardian.warn_queue_size", "5"},
                 {"pulse.guardian.delete_queue_size", "10"},
                 {"pulse.guardian.idle_queue_expiry", "3600"},
                 {"pulse.guardian.max_connection_age", "259200"},
                 {"pulse.guardian.owners.bob.delete_queue_size", "20"},
                 {"pulse.guardian.owners.first.last.warn_queue_size", "7"},
                 {"pulse.guardian.owners.first.last.delete_queue_size", "9"},
                 {"pulse.guardian.unbounded.1", "queue/alice/archive"},
                 {"pulse.guardian.unbounded.ci", "queue/ci/a|b c"},
                 {"pulse.guardian.unbounded.ci.vhost", "/ci"}});
  ASSERT_TRUE(s.ok()) << s.error().text;
  EXPECT_TRUE(s->enabled);
  EXPECT_EQ(s->interval, seconds(1));
  EXPECT_EQ(s->thresholds, (Thresholds{5, 10}));
  EXPECT_EQ(s->idle_queue_expiry, seconds(3600));
  EXPECT_EQ(s->max_connection_age, seconds(259200));
  ASSERT_EQ(s->owners.size(), 2u);
  EXPECT_EQ(s->owners["bob"].delete_queue_size, 20u);
  EXPECT_FALSE(s->owners["bob"].warn_queue_size);
  EXPECT_EQ(thresholds_for(*s, std::string("first.last")), (Thresholds{7, 9}));
  EXPECT_EQ(s->unbounded,
            (std::set<QueueRef>{{"/", "queue/alice/archive"}, {"/ci", "queue/ci/a|b c"}}));
}

TEST(SettingsReader, ALaterValueReplacesAnEarlierOne) {
  auto s = read({{"pulse.guardian.interval", "7"},
                 {"pulse.guardian.interval", "3"},
                 {"pulse.guardian.enabled", "true"},
                 {"pulse.guardian.enabled", "false"}});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->interval, seconds(3));
  EXPECT_FALSE(s->enabled);
}

TEST(SettingsReader, ErrorsNameTheKey) {
  struct Row {
    Pairs pairs;
    std::string error;
  };
  const std::string known =
      " (the guardian's keys are pulse.guardian.enabled, .interval, .warn_queue_size, "
      ".delete_queue_size, .idle_queue_expiry, .max_connection_age, "
      ".owners.<owner>.warn_queue_size, .owners.<owner>.delete_queue_size, .unbounded.<name> "
      "and .unbounded.<name>.vhost)";
  const Row rows[] = {
      {{{"pulse.guardian.poll_interval", "5"}},
       "unknown key 'pulse.guardian.poll_interval'" + known},
      {{{"pulse.guardian.owners.bob", "5"}}, "unknown key 'pulse.guardian.owners.bob'" + known},
      {{{"pulse.guardian.owners.bob.max", "5"}},
       "unknown key 'pulse.guardian.owners.bob.max'" + known},
      {{{"pulse.guardian.unbounded.1.queue", "q"}},
       "unknown key 'pulse.guardian.unbounded.1.queue'" + known},
      {{{"pulse.other", "1"}}, "unknown key 'pulse.other'" + known},
      {{{"pulse.guardian.enabled", "yes"}},
       "invalid value 'yes' for key 'pulse.guardian.enabled': expected true or false"},
      {{{"pulse.guardian.interval", "ten"}},
       "invalid value 'ten' for key 'pulse.guardian.interval': expected a number of seconds "
       "(a whole number from 0 to 86400)"},
      {{{"pulse.guardian.interval", "1.5"}},
       "invalid value '1.5' for key 'pulse.guardian.interval': expected a number of seconds "
       "(a whole number from 0 to 86400)"},
      {{{"pulse.guardian.interval", "0"}}, "pulse.guardian.interval (0) must be at least 1 second"},
      {{{"pulse.guardian.warn_queue_size", "-1"}},
       "invalid value '-1' for key 'pulse.guardian.warn_queue_size': expected a number of "
       "messages"},
      {{{"pulse.guardian.warn_queue_size", "0"}},
       "pulse.guardian.warn_queue_size must be positive"},
      {{{"pulse.guardian.warn_queue_size", "10"}, {"pulse.guardian.delete_queue_size", "10"}},
       "pulse.guardian.warn_queue_size (10) must be below delete_queue_size (10)"},
      {{{"pulse.guardian.max_connection_age", "99999999999"}},
       "invalid value '99999999999' for key 'pulse.guardian.max_connection_age': expected a "
       "number of seconds, 0 for off (a whole number from 0 to 316224000)"},
      {{{"pulse.guardian.owners.bob.delete_queue_size", "100"}},
       "pulse.guardian.owners.bob: warn_queue_size (2000) must be below delete_queue_size (100)"},
      {{{"pulse.guardian.owners.bob.warn_queue_size", "x"}},
       "invalid value 'x' for key 'pulse.guardian.owners.bob.warn_queue_size': expected a "
       "number of messages"},
      {{{"pulse.guardian.unbounded.a.vhost", "/ci"}},
       "pulse.guardian.unbounded.a.vhost is set but pulse.guardian.unbounded.a (the queue) is "
       "not"},
      {{{"pulse.guardian.unbounded.a", ""}},
       "invalid value '' for key 'pulse.guardian.unbounded.a': expected a queue name"},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(error_of(row.pairs), row.error) << row.pairs.front().first;
  }
}

}  // namespace
}  // namespace pulse::guardian
