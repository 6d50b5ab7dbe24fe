// The sinks that need no network: the kept list, the Pulse message and the log line.
#include <gtest/gtest.h>

#include "../guardian/policy_tables.h"
#include "pulse/admin/naming.h"
#include "pulse/envelope.h"
#include "pulse/guardian_run/log_sink.h"
#include "pulse/guardian_run/notice_log.h"
#include "pulse/guardian_run/publish_sink.h"

namespace pulse::guardian {
namespace {

using namespace test_support;

Notice queue_notice(Event event, std::string queue_name, uint64_t messages) {
  Notice n;
  n.event = event;
  n.at = at(0);
  n.vhost = "/";
  n.queue = std::move(queue_name);
  n.owner = admin::owner_of_queue(n.queue);
  n.messages = n.messages_ready = messages;
  n.thresholds = {5, 10};
  n.bindings = {{"exchange/alice/x", "a.#"}};
  return n;
}

TEST(NoticeLog, KeepsTheLastNWithGrowingIds) {
  NoticeLog log(3);
  EXPECT_EQ(log.last_id(), 0u);
  EXPECT_EQ(log.to_json(), nlohmann::json::array());
  for (int i = 1; i <= 5; ++i)
    log.send(queue_notice(Event::kWarning, "queue/alice/q" + std::to_string(i), 6));
  EXPECT_EQ(log.last_id(), 5u);
  ASSERT_EQ(log.entries().size(), 3u);
  EXPECT_EQ(log.entries().front().id, 3u);
  EXPECT_EQ(log.entries().front().notice.queue, "queue/alice/q3");
  EXPECT_EQ(log.entries().back().id, 5u);
}

TEST(NoticeLog, JsonAfterAnIdWithALimit) {
  NoticeLog log(3);
  for (int i = 1; i <= 5; ++i)
    log.send(queue_notice(Event::kWarning, "queue/alice/q" + std::to_string(i), 6));
  auto all = log.to_json();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0]["id"], 3);
  EXPECT_EQ(all[0]["routing_key"], "warning.alice");
  EXPECT_EQ(all[0]["queue"], "queue/alice/q3");
  EXPECT_EQ(all[0]["event"], "warning");
  EXPECT_EQ(all[0]["bindings"][0]["exchange"], "exchange/alice/x");
  EXPECT_EQ(log.to_json(0, 1).size(), 1u);
  EXPECT_EQ(log.to_json(1).size(), 3u);  // older than what is kept: everything kept
  auto after4 = log.to_json(4);
  ASSERT_EQ(after4.size(), 1u);
  EXPECT_EQ(after4[0]["id"], 5);
  EXPECT_TRUE(log.to_json(5).empty());
  EXPECT_TRUE(log.to_json(99).empty());
}

TEST(PublishSink, EachNoticeIsAPersistentJsonMessageInTheEnvelope) {
  std::vector<OutgoingMessage> sent;
  PublishSink sink([&](const OutgoingMessage& m) {
    sent.push_back(m);
    return Status();
  });
  sink.send(queue_notice(Event::kDeleted, "queue/alice/q1", 11));
  sink.send(queue_notice(Event::kWarning, "legacy-queue", 6));
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].exchange, "exchange/pulse/guardian");
  EXPECT_EQ(sent[0].routing_key, "deleted.alice");
  EXPECT_EQ(sent[1].routing_key, "warning._");
  EXPECT_EQ(sent[0].content_type, "application/json");
  EXPECT_TRUE(sent[0].persistent);
  auto env = parse_envelope(sent[0].body);
  ASSERT_TRUE(env.ok());
  EXPECT_TRUE(env->wrapped);
  EXPECT_EQ(env->exchange(), "exchange/pulse/guardian");
  EXPECT_EQ(env->routing_key(), "deleted.alice");
  EXPECT_EQ(env->meta["serializer"], "json");
  EXPECT_EQ(env->payload["event"], "deleted");
  EXPECT_EQ(env->payload["queue"], "queue/alice/q1");
  EXPECT_EQ(env->payload["messages"], 11);
  EXPECT_EQ(env->payload["owner"], "alice");
  EXPECT_EQ(sink.published(), 2u);
}

TEST(PublishSink, AFailedPublishIsCountedNotThrown) {
  PublishSink sink([](const OutgoingMessage&) {
    return Status(Error{404, "NOT_FOUND - no exchange 'exchange/pulse/guardian' in vhost '/'"});
  });
  sink.send(queue_notice(Event::kWarning, "queue/alice/q1", 6));
  EXPECT_EQ(sink.failed(), 1u);
  EXPECT_EQ(sink.published(), 0u);
}

TEST(LogSink, OneLineNamingTheQueueItsSizeAndTheThresholds) {
  Notice n = queue_notice(Event::kDeleted, "queue/alice/q1", 11);
  n.growth_rate = 2.0;
  n.consumers = 1;
  EXPECT_EQ(notice_log_line(n),
            "guardian: deleted.alice: queue 'queue/alice/q1' in vhost '/': 11 messages (11 "
            "ready, 0 unacknowledged), 1 consumers, +2.0 messages/s; warn over 5, delete over 10");
  Notice c;
  c.event = Event::kConnectionClosed;
  c.owner = "bob";
  c.connection = "127.0.0.1:5000 -> 127.0.0.1:5672";
  c.user = "bob";
  c.peer = "127.0.0.1:5000";
  c.connection_age = std::chrono::seconds(61);
  c.max_connection_age = std::chrono::seconds(60);
  EXPECT_EQ(notice_log_line(c),
            "guardian: connection_closed.bob: connection '127.0.0.1:5000 -> 127.0.0.1:5672' of "
            "user 'bob' from 127.0.0.1:5000 closed: open 61 s, max_connection_age 60 s");
  EXPECT_EQ(std::string(notice_log_line(n)).find('\n'), std::string::npos);
}

}  // namespace
}  // namespace pulse::guardian
