#include "pulse/envelope.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <regex>
#include <string>

namespace pulse {
namespace {

using namespace std::chrono;

// Sets TZ for one test and restores the previous value, so the stamps do not depend on the
// machine's zone. POSIX zone strings need no tzdata: "ABC-1" is one hour east of UTC.
class ScopedTz {
 public:
  explicit ScopedTz(const char* tz) {
    if (const char* old = std::getenv("TZ")) old_ = old;
    setenv("TZ", tz, 1);
    tzset();
  }
  ~ScopedTz() {
    if (old_) {
      setenv("TZ", old_->c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }

 private:
  std::optional<std::string> old_;
};

// 2014-08-01T19:46:42Z, a summer date (DST applies where the zone has it).
const system_clock::time_point kAugust =
    sys_days{year{2014} / August / 1} + hours{19} + minutes{46} + seconds{42};

TEST(Rfc3339, NumericOffsetOfTheZoneNeverZ) {
  const struct {
    const char* tz;
    const char* stamp;
  } cases[] = {
      {"UTC0", "2014-08-01T19:46:42+00:00"},
      {"ABC-1", "2014-08-01T20:46:42+01:00"},
      {"ABC+5:30", "2014-08-01T14:16:42-05:30"},  // west of UTC, with a half hour
  };
  for (const auto& c : cases) {
    ScopedTz tz(c.tz);
    EXPECT_EQ(rfc3339(kAugust), c.stamp) << "TZ=" << c.tz;
  }
}

TEST(Rfc3339, FollowsDaylightSavingTimeOfTheInstant) {
  // Central Europe: +02:00 in August, +01:00 in January.
  ScopedTz tz("CET-1CEST,M3.5.0,M10.5.0/3");
  EXPECT_EQ(rfc3339(kAugust), "2014-08-01T21:46:42+02:00");
  const auto january = sys_days{year{2015} / January / 15} + hours{8};
  EXPECT_EQ(rfc3339(january), "2015-01-15T09:00:00+01:00");
}

TEST(Rfc3339, SecondsPrecisionLikeMozillapulse) {
  // mozillapulse formatted with strftime("%Y-%m-%dT%H:%M:%S") + offset: no fraction.
  ScopedTz tz("UTC0");
  EXPECT_EQ(rfc3339(kAugust + milliseconds{999}), "2014-08-01T19:46:42+00:00");
}

TEST(BuildEnvelope, MozillapulseShape) {
  ScopedTz tz("ABC-1");
  const std::string body = build_envelope({{"hello", "world"}, {"n", 3}}, "exchange/pulse/test",
                                          "heartbeat", nullptr, kAugust);
  const auto j = nlohmann::json::parse(body);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.size(), 2u);
  EXPECT_EQ(j["payload"], (nlohmann::json{{"hello", "world"}, {"n", 3}}));
  const nlohmann::json meta = {{"exchange", "exchange/pulse/test"},
                               {"routing_key", "heartbeat"},
                               {"serializer", "json"},
                               {"sent", "2014-08-01T20:46:42+01:00"}};
  EXPECT_EQ(j["_meta"], meta);
}

TEST(BuildEnvelope, ExtraMetaIsKeptButStandardFieldsWin) {
  const nlohmann::json extra = {{"master_name", "buildbot-master69"},
                                {"message_id", "b1e5c0de"},
                                {"exchange", "exchange/forged"},
                                {"serializer", "pickle"}};
  const auto j = nlohmann::json::parse(
      build_envelope(nlohmann::json::array({1, 2}), "exchange/build/", "build.x", extra));
  EXPECT_EQ(j["_meta"]["master_name"], "buildbot-master69");
  EXPECT_EQ(j["_meta"]["message_id"], "b1e5c0de");
  EXPECT_EQ(j["_meta"]["exchange"], "exchange/build/");
  EXPECT_EQ(j["_meta"]["routing_key"], "build.x");
  EXPECT_EQ(j["_meta"]["serializer"], "json");
  EXPECT_EQ(j["payload"], nlohmann::json::array({1, 2}));
}

TEST(BuildEnvelope, NonObjectExtraMetaIsIgnored) {
  const auto j = nlohmann::json::parse(
      build_envelope(nullptr, "exchange/a/b", "k", nlohmann::json::array({"x"})));
  EXPECT_EQ(j["_meta"].size(), 4u);
  EXPECT_TRUE(j["payload"].is_null());
}

TEST(BuildEnvelope, InvalidUtf8IsReplacedNotThrown) {
  std::string body;
  ASSERT_NO_THROW(body = build_envelope({{"s", std::string("ok\xff")}}, "exchange/a/b", "k"));
  const auto j = nlohmann::json::parse(body);
  EXPECT_EQ(j["payload"]["s"], "ok\xEF\xBF\xBD");  // U+FFFD
}

TEST(BuildEnvelope, RoundTripsThroughParse) {
  const nlohmann::json payload = {{"name", "caf\xC3\xA9"}, {"list", {1, 2.5, nullptr, true}}};
  auto e = parse_envelope(build_envelope(payload, "exchange/me/x", "a.b.c", {{"extra", 1}}));
  ASSERT_TRUE(e.ok()) << e.error().text;
  EXPECT_TRUE(e->wrapped);
  EXPECT_EQ(e->payload, payload);
  EXPECT_EQ(e->exchange(), "exchange/me/x");
  EXPECT_EQ(e->routing_key(), "a.b.c");
  EXPECT_EQ(e->meta["extra"], 1);
  EXPECT_EQ(e->meta["serializer"], "json");
  EXPECT_TRUE(
      std::regex_match(e->sent(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d)")))
      << e->sent();
}

// As buildbot's pulse status plugin published it through mozillapulse (Python 2's json.dumps:
// ", " and ": " separators, non-ASCII escaped, _meta before payload), with the extra _meta
// fields BuildMessage added. The offset is mozillapulse's: it formatted US/Pacific wall time and
// in summer wrote the DST delta ("+01:00") instead of the UTC offset, so `sent` is carried as
// text, never interpreted.
constexpr const char* kBuildbotMessage =
    R"({"_meta": {"master_name": "buildbot-master69.bb.releng.use1.mozilla.com", "exchange": "exchange/build/", "sent": "2014-08-01T12:46:42+01:00", "routing_key": "build.mozilla-central-linux64.105.log_uploaded", "serializer": "json", "master_incarnation": "pid17316-boot1406847845", "message_id": "6b4e3b6a1f2c4c0e9a8b7d6c5e4f3a21"}, "payload": {"build": {"builderName": "Linux x86-64 mozilla-central build", "number": 105, "results": 0, "slave": "bld-linux64-spot-303", "times": [1406921184.75, 1406923601.1], "properties": [["branch", "mozilla-central", "Builder"], ["buildid", "20140801110201", "setup"], ["comments", "Bug 1046389 - caf\u00e9 \u2013 r=me", "Change"]], "sourceStamp": {"branch": "mozilla-central", "revision": "a4ae3f7b9f8b", "changes": []}}}})";

TEST(ParseEnvelope, MozillapulseBuildbotMessageWithExtraMeta) {
  auto e = parse_envelope(kBuildbotMessage);
  ASSERT_TRUE(e.ok()) << e.error().text;
  EXPECT_TRUE(e->wrapped);
  EXPECT_EQ(e->exchange(), "exchange/build/");
  EXPECT_EQ(e->routing_key(), "build.mozilla-central-linux64.105.log_uploaded");
  EXPECT_EQ(e->sent(), "2014-08-01T12:46:42+01:00");
  EXPECT_EQ(e->meta["master_name"], "buildbot-master69.bb.releng.use1.mozilla.com");
  EXPECT_EQ(e->meta["master_incarnation"], "pid17316-boot1406847845");
  EXPECT_EQ(e->meta["message_id"], "6b4e3b6a1f2c4c0e9a8b7d6c5e4f3a21");
  const auto& build = e->payload["build"];
  EXPECT_EQ(build["number"], 105);
  EXPECT_EQ(build["results"], 0);
  EXPECT_EQ(build["properties"][0],
            nlohmann::json::array({"branch", "mozilla-central", "Builder"}));
  // \u escapes decode to UTF-8.
  EXPECT_EQ(build["properties"][2][1], "Bug 1046389 - caf\xC3\xA9 \xE2\x80\x93 r=me");
}

// Taskcluster publishes the bare payload (no envelope): content_type application/json, the
// schema's fields at the top level, routing key and CC routes only in AMQP.
constexpr const char* kTaskclusterMessage =
    R"({"status":{"taskId":"fN1SbArXTPSVFNUvaOlinQ","provisionerId":"proj-gecko","workerType":"b-linux","schedulerId":"gecko-level-3","taskGroupId":"ZV5xLwq6Tx2ChGUhGNJ2Mw","deadline":"2024-03-02T10:12:41.020Z","expires":"2025-03-01T10:12:41.020Z","retriesLeft":5,"state":"completed","runs":[{"runId":0,"state":"completed","reasonCreated":"scheduled","reasonResolved":"completed","workerGroup":"us-east1","workerId":"5210928714826312312","takenUntil":"2024-03-01T11:02:11.556Z","scheduled":"2024-03-01T10:12:42.119Z","started":"2024-03-01T10:13:05.571Z","resolved":"2024-03-01T10:48:44.218Z"}]},"runId":0,"task":{"tags":{"kind":"build"}},"workerGroup":"us-east1","workerId":"5210928714826312312","version":1})";

TEST(ParseEnvelope, TaskclusterBarePayload) {
  auto e = parse_envelope(kTaskclusterMessage);
  ASSERT_TRUE(e.ok()) << e.error().text;
  EXPECT_FALSE(e->wrapped);
  EXPECT_EQ(e->meta, nlohmann::json::object());
  EXPECT_EQ(e->exchange(), "");
  EXPECT_EQ(e->routing_key(), "");
  EXPECT_EQ(e->sent(), "");
  EXPECT_EQ(e->payload["status"]["state"], "completed");
  EXPECT_EQ(e->payload["version"], 1);
  EXPECT_EQ(e->payload["workerGroup"], "us-east1");
}

TEST(ParseEnvelope, OnlyPayloadPlusObjectMetaIsAnEnvelope) {
  // A payload that merely has a "payload" field (or a non-object _meta) stays bare and whole.
  for (const char* body : {R"({"payload": {"a": 1}})", R"({"payload": 1, "_meta": "x"})",
                           R"({"_meta": {"exchange": "e"}})", R"({"payload": 1, "_meta": null})"}) {
    auto e = parse_envelope(body);
    ASSERT_TRUE(e.ok()) << body;
    EXPECT_FALSE(e->wrapped) << body;
    EXPECT_EQ(e->payload, nlohmann::json::parse(body)) << body;
  }
  auto e = parse_envelope(R"({"payload": null, "_meta": {}})");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->wrapped);
  EXPECT_TRUE(e->payload.is_null());
}

TEST(ParseEnvelope, MetaFieldsOfTheWrongTypeReadAsEmpty) {
  auto e = parse_envelope(R"({"payload": {}, "_meta": {"exchange": 7, "routing_key": null}})");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->wrapped);
  EXPECT_EQ(e->exchange(), "");
  EXPECT_EQ(e->routing_key(), "");
  EXPECT_EQ(e->meta["exchange"], 7);
}

TEST(ParseEnvelope, AnyJsonValueIsABarePayload) {
  for (const char* body : {"[1, 2]", "\"text\"", "42", "null", "true", " {} "}) {
    auto e = parse_envelope(body);
    ASSERT_TRUE(e.ok()) << body;
    EXPECT_FALSE(e->wrapped);
    EXPECT_EQ(e->payload, nlohmann::json::parse(body));
  }
}

TEST(ParseEnvelope, NotJsonIsAnError) {
  for (const char* body : {"", "hello", "{\"a\": }", "{\"a\": 1} trailing", "NaN"}) {
    auto e = parse_envelope(body);
    ASSERT_FALSE(e.ok()) << body;
    EXPECT_EQ(e.error().code, 0);
    EXPECT_EQ(e.error().text, "message body is not JSON");
  }
}

}  // namespace
}  // namespace pulse
