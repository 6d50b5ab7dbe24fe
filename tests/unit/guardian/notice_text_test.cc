#include "pulse/guardian/notice_text.h"

#include <gtest/gtest.h>

#include "policy_tables.h"

namespace pulse::guardian {
namespace {

using namespace test_support;
using std::chrono::seconds;

Notice warning() {
  Notice n;
  n.event = Event::kWarning;
  n.at = at(0);
  n.vhost = "ci";
  n.owner = "a.b-c";
  n.queue = "queue/a.b-c/builds";
  n.messages = 3010;
  n.messages_ready = 3000;
  n.messages_unacknowledged = 10;
  n.growth_rate = 502.5;
  n.consumers = 2;
  n.bindings = {{"exchange/build/normalized", "build.#"}, {"exchange/hgpushes/v2", "#"}};
  n.thresholds = Thresholds{3000, 8000};
  return n;
}

Notice orphan_deleted() {
  Notice n;
  n.event = Event::kDeleted;
  n.at = at(65);
  n.vhost = "/";
  n.queue = "orphan";
  n.messages = 8001;
  n.messages_ready = 8001;
  n.thresholds = Thresholds{2000, 8000};
  return n;
}

Notice closed() {
  Notice n;
  n.event = Event::kConnectionClosed;
  n.at = at(0);
  n.vhost = "/";
  n.owner = "bob";
  n.connection = "10.0.0.7:50000 -> 10.0.0.1:5671";
  n.user = "bob";
  n.peer = "10.0.0.7:50000";
  n.connected_at = at(-259201);
  n.connection_age = seconds(259201);
  n.max_connection_age = seconds(259200);
  return n;
}

TEST(NoticeText, Rfc3339InUtc) {
  EXPECT_EQ(rfc3339_utc(at(0)), "2026-12-05T11:00:00+00:00");
  EXPECT_EQ(rfc3339_utc(at(-259201)), "2026-12-02T10:59:59+00:00");
}

TEST(NoticeText, RoutingKeyIsEventDotOwner) {
  EXPECT_EQ(notice_routing_key(warning()), "warning.a.b-c");
  EXPECT_EQ(notice_routing_key(orphan_deleted()), "deleted._");
  EXPECT_EQ(notice_routing_key(closed()), "connection_closed.bob");
  Notice normal = warning();
  normal.event = Event::kBackToNormal;
  normal.owner = "alice";
  EXPECT_EQ(notice_routing_key(normal), "back_to_normal.alice");
  normal.event = Event::kIdleDeleted;
  EXPECT_EQ(notice_routing_key(normal), "idle_deleted.alice");
  EXPECT_STREQ(kNoticeExchange, "exchange/pulse/guardian");
}

TEST(NoticeText, QueueJson) {
  EXPECT_EQ(notice_json(warning()), nlohmann::json::parse(R"({
    "event": "warning", "time": "2026-12-05T11:00:00+00:00", "vhost": "ci",
    "owner": "a.b-c", "queue": "queue/a.b-c/builds",
    "messages": 3010, "messages_ready": 3000, "messages_unacknowledged": 10,
    "growth_rate": 502.5, "consumers": 2,
    "bindings": [{"exchange": "exchange/build/normalized", "routing_key": "build.#"},
                 {"exchange": "exchange/hgpushes/v2", "routing_key": "#"}],
    "warn_queue_size": 3000, "delete_queue_size": 8000, "unbounded": false})"));
  EXPECT_EQ(notice_json(orphan_deleted()), nlohmann::json::parse(R"({
    "event": "deleted", "time": "2026-12-05T11:01:05+00:00", "vhost": "/",
    "owner": null, "queue": "orphan",
    "messages": 8001, "messages_ready": 8001, "messages_unacknowledged": 0,
    "growth_rate": null, "consumers": 0, "bindings": [],
    "warn_queue_size": 2000, "delete_queue_size": 8000, "unbounded": false})"));
  Notice idle = orphan_deleted();
  idle.event = Event::kIdleDeleted;
  idle.idle_for = seconds(3605);
  idle.idle_queue_expiry = seconds(3600);
  auto j = notice_json(idle);
  EXPECT_EQ(j["event"], "idle_deleted");
  EXPECT_EQ(j["idle_seconds"], 3605);
  EXPECT_EQ(j["idle_queue_expiry"], 3600);
  EXPECT_EQ(j.size(), 16u);
}

TEST(NoticeText, ConnectionJson) {
  EXPECT_EQ(notice_json(closed()), nlohmann::json::parse(R"({
    "event": "connection_closed", "time": "2026-12-05T11:00:00+00:00", "vhost": "/",
    "owner": "bob", "connection": "10.0.0.7:50000 -> 10.0.0.1:5671", "user": "bob",
    "peer": "10.0.0.7:50000", "connected_at": "2026-12-02T10:59:59+00:00",
    "age_seconds": 259201, "max_connection_age": 259200})"));
}

TEST(NoticeText, PulseGuardiansSubjects) {
  Notice n = warning();
  EXPECT_EQ(email_subject(n), "Pulse warning: queue \"queue/a.b-c/builds\" is overgrowing");
  n.event = Event::kBackToNormal;
  EXPECT_EQ(email_subject(n), "Pulse warning: queue \"queue/a.b-c/builds\" is back to normal");
  n.event = Event::kDeleted;
  EXPECT_EQ(email_subject(n), "Pulse warning: queue \"queue/a.b-c/builds\" has been deleted");
  n.event = Event::kIdleDeleted;
  EXPECT_EQ(email_subject(n), "Pulse warning: queue \"queue/a.b-c/builds\" has been deleted");
  EXPECT_EQ(email_subject(closed()),
            "Pulse warning: connection \"10.0.0.7:50000 -> 10.0.0.1:5671\" has been closed");
}

TEST(NoticeText, WarningBodyNamesEverything) {
  EXPECT_EQ(email_body(warning()),
            "Your queue \"queue/a.b-c/builds\" is overgrowing: it holds more than 3000 messages. "
            "It will be deleted when it holds more than 8000 messages.\n"
            "\n"
            "Queue:      queue/a.b-c/builds\n"
            "Vhost:      ci\n"
            "Owner:      a.b-c\n"
            "Messages:   3010 (3000 ready, 10 unacknowledged)\n"
            "Growth:     +502.5 messages/s\n"
            "Consumers:  2\n"
            "Bindings:   exchange \"exchange/build/normalized\", routing key \"build.#\"\n"
            "            exchange \"exchange/hgpushes/v2\", routing key \"#\"\n"
            "Thresholds: warning over 3000, deletion over 8000 messages\n"
            "\n"
            "Make sure your consumers are running and delete durable queues no one reads any "
            "more.\n");
}

TEST(NoticeText, OtherBodies) {
  EXPECT_EQ(email_body(orphan_deleted()),
            "Your queue \"orphan\" has been deleted: it held more than 8000 messages.\n"
            "\n"
            "Queue:      orphan\n"
            "Vhost:      /\n"
            "Owner:      none (not named queue/<owner>/...)\n"
            "Messages:   8001 (8001 ready, 0 unacknowledged)\n"
            "Growth:     unknown (first observation)\n"
            "Consumers:  0\n"
            "Bindings:   none\n"
            "Thresholds: warning over 2000, deletion over 8000 messages\n"
            "\n"
            "Make sure your consumers are running and delete durable queues no one reads any "
            "more.\n");

  Notice unbounded = warning();
  unbounded.unbounded = true;
  const std::string ub = email_body(unbounded);
  EXPECT_EQ(ub.substr(0, ub.find('\n')),
            "Your queue \"queue/a.b-c/builds\" is overgrowing: it holds more than 3000 messages. "
            "It is marked unbounded and will not be deleted.");
  EXPECT_NE(ub.find("Thresholds: warning over 3000, deletion over 8000 messages (unbounded: "
                    "never deleted)\n"),
            std::string::npos);

  Notice normal = warning();
  normal.event = Event::kBackToNormal;
  normal.growth_rate = -40;
  const std::string nb = email_body(normal);
  EXPECT_EQ(nb.substr(0, nb.find('\n')),
            "Your queue \"queue/a.b-c/builds\" is back to normal: it holds 3000 messages or "
            "fewer.");
  EXPECT_NE(nb.find("Growth:     -40.0 messages/s\n"), std::string::npos);
  EXPECT_EQ(nb.find("Make sure"), std::string::npos);

  Notice idle = orphan_deleted();
  idle.event = Event::kIdleDeleted;
  idle.idle_for = seconds(3605);
  idle.idle_queue_expiry = seconds(3600);
  const std::string ib = email_body(idle);
  EXPECT_EQ(ib.substr(0, ib.find('\n')),
            "Your queue \"orphan\" has been deleted: it had no consumer for 3605 s, the limit is "
            "3600 s.");

  EXPECT_EQ(email_body(closed()),
            "The connection \"10.0.0.7:50000 -> 10.0.0.1:5671\" has been closed: it was open for "
            "259201 s, longer than the limit of 259200 s.\n"
            "\n"
            "User:         bob\n"
            "Vhost:        /\n"
            "Peer:         10.0.0.7:50000\n"
            "Connected at: 2026-12-02T10:59:59+00:00\n"
            "\n"
            "Clients are expected to reconnect; one that does not needs fixing.\n");
}

}  // namespace
}  // namespace pulse::guardian
