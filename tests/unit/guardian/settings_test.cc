#include "pulse/guardian/settings.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

namespace pulse::guardian {
namespace {

using std::chrono::seconds;

TEST(GuardianSettings, IssueDefaults) {
  GuardianSettings s;
  EXPECT_FALSE(s.enabled);
  EXPECT_EQ(s.interval, seconds(5));
  EXPECT_EQ(s.thresholds, (Thresholds{2000, 8000}));
  EXPECT_TRUE(s.owners.empty());
  EXPECT_TRUE(s.unbounded.empty());
  EXPECT_EQ(s.idle_queue_expiry, seconds(0));
  EXPECT_EQ(s.max_connection_age, seconds(0));
  EXPECT_TRUE(validate(s).ok());
}

TEST(GuardianSettings, ValidationTable) {
  struct Row {
    const char* what;
    std::function<void(GuardianSettings&)> change;
    std::string error;  // "" = valid
  };
  const Row rows[] = {
      {"production's deletion threshold", [](auto& s) { s.thresholds.delete_queue_size = 20000; },
       ""},
      {"interval 0", [](auto& s) { s.interval = seconds(0); },
       "pulse.guardian.interval (0) must be at least 1 second"},
      {"warn 0", [](auto& s) { s.thresholds.warn_queue_size = 0; },
       "pulse.guardian.warn_queue_size must be positive"},
      {"delete 0", [](auto& s) { s.thresholds.delete_queue_size = 0; },
       "pulse.guardian.delete_queue_size must be positive"},
      {"warn = delete",
       [](auto& s) {
         s.thresholds = {8000, 8000};
       },
       "pulse.guardian.warn_queue_size (8000) must be below delete_queue_size (8000)"},
      {"warn > delete",
       [](auto& s) {
         s.thresholds = {9000, 8000};
       },
       "pulse.guardian.warn_queue_size (9000) must be below delete_queue_size (8000)"},
      {"owner raising deletion only",
       [](auto& s) {
         s.owners["bob"] = {std::nullopt, 20000};
       },
       ""},
      {"owner warn over the global deletion",
       [](auto& s) {
         s.owners["bob"] = {9000, std::nullopt};
       },
       "pulse.guardian.owners.bob: warn_queue_size (9000) must be below delete_queue_size (8000)"},
      {"owner delete under the global warning",
       [](auto& s) {
         s.owners["bob"] = {std::nullopt, 1000};
       },
       "pulse.guardian.owners.bob: warn_queue_size (2000) must be below delete_queue_size (1000)"},
      {"owner zero",
       [](auto& s) {
         s.owners["bob"] = {0, 10};
       },
       "pulse.guardian.owners.bob: warn_queue_size must be positive"},
      {"owner empty override", [](auto& s) { s.owners["bob"] = {}; },
       "pulse.guardian.owners.bob: sets neither warn_queue_size nor delete_queue_size"},
      {"owner without name",
       [](auto& s) {
         s.owners[""] = {1, 2};
       },
       "pulse.guardian.owners: an owner name is empty"},
      {"unbounded without vhost",
       [](auto& s) {
         s.unbounded.insert(QueueRef{"", "queue/a/q"});
       },
       "pulse.guardian.unbounded: vhost and queue name must not be empty"},
      {"unbounded ok",
       [](auto& s) {
         s.unbounded.insert(QueueRef{"/", "queue/a/q"});
       },
       ""},
      {"negative idle expiry", [](auto& s) { s.idle_queue_expiry = seconds(-1); },
       "pulse.guardian.idle_queue_expiry (-1) must not be negative (0 turns it off)"},
      {"negative connection age", [](auto& s) { s.max_connection_age = seconds(-5); },
       "pulse.guardian.max_connection_age (-5) must not be negative (0 turns it off)"},
      {"both on",
       [](auto& s) {
         s.idle_queue_expiry = seconds(86400);
         s.max_connection_age = seconds(72 * 3600);
       },
       ""},
  };
  for (const auto& r : rows) {
    GuardianSettings s;
    r.change(s);
    auto st = validate(s);
    EXPECT_EQ(st.ok() ? std::string() : st.error().text, r.error) << r.what;
  }
}

TEST(GuardianSettings, ThresholdsForOwner) {
  GuardianSettings s;
  s.owners["bob"] = {std::nullopt, 20000};
  s.owners["carol"] = {100, 500};
  EXPECT_EQ(thresholds_for(s, std::nullopt), (Thresholds{2000, 8000}));
  EXPECT_EQ(thresholds_for(s, std::string("alice")), (Thresholds{2000, 8000}));
  EXPECT_EQ(thresholds_for(s, std::string("bob")), (Thresholds{2000, 20000}));
  EXPECT_EQ(thresholds_for(s, std::string("carol")), (Thresholds{100, 500}));
}

}  // namespace
}  // namespace pulse::guardian
