#include "pulse/admin/naming.h"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include <optional>
#include <string>

namespace pulse::admin {
namespace {

TEST(OwnerOfQueue, TheSecondPartOfQueueOwnerName) {
  struct Row {
    const char* queue;
    std::optional<std::string> owner;
  };
  const Row rows[] = {
      {"queue/alice/builds", "alice"},
      {"queue/alice/a/b/c", "alice"},
      {"queue/a.b-c/x", "a.b-c"},
      {"queue/alice/", "alice"},  // PulseGuardian's `queue/([^/]+)/` matched it too
      {"queue/alice", std::nullopt},
      {"queue//x", std::nullopt},
      {"queue/", std::nullopt},
      {"exchange/alice/x", std::nullopt},
      {"Queue/alice/x", std::nullopt},
      {"my-queue", std::nullopt},
      {"", std::nullopt},
      {"amq.gen-JzTY20BRgKO-HjmUJj0wLg", std::nullopt},
  };
  for (const auto& r : rows) EXPECT_EQ(owner_of_queue(r.queue), r.owner) << r.queue;
}

TEST(CheckUserName, TheReferenceRuleWithTextsSayingWhatIsWrong) {
  for (const char* ok : {"a", "alice", "Alice2", "a.b-c", "x_y", "taskcluster-queue"}) {
    EXPECT_TRUE(check_user_name(ok).ok()) << ok;
  }
  struct Row {
    const char* user;
    const char* text;
  };
  const Row rows[] = {
      {"", "invalid Pulse user name: it is empty"},
      {"1abc", "invalid Pulse user name '1abc': it must start with a letter"},
      {"_x", "invalid Pulse user name '_x': it must start with a letter"},
      {"a b",
       "invalid Pulse user name 'a b': it may contain only letters, digits, '.', '_' and '-'"},
      {"a/b",
       "invalid Pulse user name 'a/b': it may contain only letters, digits, '.', '_' and '-'"},
      {"a*", "invalid Pulse user name 'a*': it may contain only letters, digits, '.', '_' and '-'"},
  };
  for (const auto& r : rows) {
    auto st = check_user_name(r.user);
    ASSERT_FALSE(st.ok()) << r.user;
    EXPECT_EQ(st.error().text, r.text);
  }
}

TEST(CheckPassword, SixCharactersWithALetterAndADigitNeverEchoed) {
  for (const char* ok : {"abc123", "1a2b3c", "correct horse 9", "Zzzzz0"}) {
    EXPECT_TRUE(check_password(ok).ok()) << ok;
  }
  struct Row {
    const char* password;
    const char* text;
  };
  const Row rows[] = {
      {"", "invalid password: it must have at least 6 characters"},
      {"ab12c", "invalid password: it must have at least 6 characters"},
      {"abcdef", "invalid password: it must contain a digit"},
      {"123456", "invalid password: it must contain a letter"},
      {"!!!!!!", "invalid password: it must contain a letter"},
  };
  for (const auto& r : rows) {
    auto st = check_password(r.password);
    ASSERT_FALSE(st.ok()) << r.password;
    EXPECT_EQ(st.error().text, r.text);
  }
}

TEST(RegexEscape, SpecialCharactersOnly) {
  EXPECT_EQ(regex_escape("alice"), "alice");
  EXPECT_EQ(regex_escape("a.b-c"), "a\\.b-c");
  EXPECT_EQ(regex_escape("a_b9"), "a_b9");
  EXPECT_EQ(regex_escape("^$.|?*+()[]{}\\"), "\\^\\$\\.\\|\\?\\*\\+\\(\\)\\[\\]\\{\\}\\\\");
}

TEST(PulseUserPermissions, ExactlyTheReferencePatterns) {
  EXPECT_EQ(pulse_user_permissions("alice"),
            (Permissions{"^(queue/alice/.*|exchange/alice/.*)",
                         "^(queue/alice/.*|exchange/alice/.*)", "^(queue/alice/.*|exchange/.*)"}));
  EXPECT_EQ(pulse_user_permissions("a.b-c"), (Permissions{"^(queue/a\\.b-c/.*|exchange/a\\.b-c/.*)",
                                                          "^(queue/a\\.b-c/.*|exchange/a\\.b-c/.*)",
                                                          "^(queue/a\\.b-c/.*|exchange/.*)"}));
}

// Permission checks are unanchored searches (RabbitMQ's re:run, pulsed's RE2 PartialMatch);
// the patterns' own ^ anchors them.
bool allows(const std::string& pattern, const std::string& resource) {
  RE2 re(pattern, RE2::Latin1);
  EXPECT_TRUE(re.ok()) << pattern;
  return RE2::PartialMatch(resource, re);
}

TEST(PulseUserPermissions, WhatTheyLetAUserDo) {
  const Permissions p = pulse_user_permissions("a.b-c");
  struct Row {
    const char* resource;
    bool configure_write;
    bool read;
  };
  const Row rows[] = {
      {"queue/a.b-c/q", true, true},
      {"exchange/a.b-c/x", true, true},
      {"exchange/bob/x", false, true},
      {"exchange/pulse/test", false, true},
      {"queue/bob/q", false, false},
      {"queue/aXb-c/q", false, false},  // the escaped dot matches only a dot
      {"exchange/aXb-c/x", false, true},
      {"queue/a.b-cd/q", false, false},
      {"xqueue/a.b-c/q", false, false},
      {"amq.default", false, false},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(allows(p.configure, r.resource), r.configure_write) << r.resource;
    EXPECT_EQ(allows(p.write, r.resource), r.configure_write) << r.resource;
    EXPECT_EQ(allows(p.read, r.resource), r.read) << r.resource;
  }
}

}  // namespace
}  // namespace pulse::admin
