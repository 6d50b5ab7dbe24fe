// queue.* as a client sees it: server-named queues and the "" shortcut, exclusivity across
// connections, delete if-empty / if-unused, purge (channel_queue.cc against
// tests/integration/test_queue.py).
#include <functional>
#include <regex>
#include <string>
#include <vector>

#include "server_fixture.h"

namespace pulse::server::testing {
namespace {

using ChannelQueue = ServerTest;

client::QueueOptions exclusive() {
  client::QueueOptions o;
  o.exclusive = true;
  return o;
}

TEST_F(ChannelQueue, ServerNamesAnEmptyNameAndRemembersItForTheChannel) {
  auto q = ch->queue_declare("", exclusive());
  ASSERT_TRUE(q.ok()) << q.error().text;
  EXPECT_TRUE(std::regex_match(q->name, std::regex("amq\\.gen-[A-Za-z0-9_\\-]{22}"))) << q->name;
  EXPECT_EQ(q->message_count, 0u);
  EXPECT_EQ(q->consumer_count, 0u);
  fill(*ch, q->name, 2);
  // "" names the channel's last declared queue in get, purge, ...
  auto m = ch->get("", /*no_ack=*/true);
  ASSERT_TRUE(m.ok() && *m) << (m.ok() ? "empty" : m.error().text);
  EXPECT_EQ((*m)->body, "0");
  auto purged = ch->queue_purge("");
  ASSERT_TRUE(purged.ok()) << purged.error().text;
  EXPECT_EQ(*purged, 1u);
}

TEST_F(ChannelQueue, EmptyNameWithoutADeclaredQueue) {
  EXPECT_TRUE(failed_with(ch->queue_purge(""), 404, "NOT_FOUND - no previously declared queue"));
  EXPECT_TRUE(conn->is_open());
}

TEST_F(ChannelQueue, ExclusiveQueueIsLockedFromAnotherConnection) {
  ASSERT_TRUE(ch->queue_declare("ex.q", exclusive()).ok());
  Connection* other = connect();
  ASSERT_NE(other, nullptr);
  const std::string text =
      "RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'ex.q' in vhost '/'. It "
      "could be originally declared on another connection or the exclusive property value does "
      "not match that of the original declaration.";
  client::QueueOptions passive;
  passive.passive = true;
  const std::vector<std::pair<const char*, std::function<Status(Channel&)>>> ops = {
      {"declare exclusive",
       [](Channel& c) { return status_of(c.queue_declare("ex.q", exclusive())); }},
      {"declare", [](Channel& c) { return status_of(c.queue_declare("ex.q")); }},
      {"declare passive", [&](Channel& c) { return status_of(c.queue_declare("ex.q", passive)); }},
      {"consume", [](Channel& c) { return status_of(c.consume("ex.q", ignore_delivery)); }},
      {"get", [](Channel& c) { return status_of(c.get("ex.q")); }},
      {"purge", [](Channel& c) { return status_of(c.queue_purge("ex.q")); }},
      {"delete", [](Channel& c) { return status_of(c.queue_delete("ex.q")); }},
      {"bind", [](Channel& c) { return c.queue_bind("ex.q", "amq.fanout", ""); }},
  };
  for (const auto& [what, op] : ops) {
    Channel* c = open_channel(*other);
    ASSERT_NE(c, nullptr);
    EXPECT_TRUE(failed_with(op(*c), 405, text)) << what;
    EXPECT_TRUE(c->close());
  }
  EXPECT_TRUE(other->is_open());
  EXPECT_EQ(ready(*ch, "ex.q"), 0u);  // still there, still ours
}

TEST_F(ChannelQueue, ExclusiveQueueIsSharedByTheChannelsOfItsConnection) {
  ASSERT_TRUE(ch->queue_declare("ex.q", exclusive()).ok());
  Channel* second = open_channel(*conn);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(second->queue_declare("ex.q", exclusive()).ok());
  fill(*second, "ex.q", 1);
  EXPECT_EQ(drain(*ch, "ex.q"), (std::vector<std::string>{"0"}));
}

TEST_F(ChannelQueue, ExclusiveQueueGoesWithItsConnection) {
  Connection* owner = connect();
  ASSERT_NE(owner, nullptr);
  Channel* c = open_channel(*owner);
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->queue_declare("ex.gone", exclusive()).ok());
  ASSERT_TRUE(owner->close());
  client::QueueOptions passive;
  passive.passive = true;
  EXPECT_TRUE(failed_with(ch->queue_declare("ex.gone", passive), 404,
                          "NOT_FOUND - no queue 'ex.gone' in vhost '/'"));
}

TEST_F(ChannelQueue, DeleteIfUnusedRefusesAQueueWithConsumers) {
  ASSERT_TRUE(ch->queue_declare("du.q").ok());
  ASSERT_TRUE(ch->consume("du.q", ignore_delivery).ok());
  EXPECT_TRUE(failed_with(ch->queue_delete("du.q", /*if_unused=*/true), 406,
                          "PRECONDITION_FAILED - queue 'du.q' in vhost '/' in use"));
  // The consumer went away with the channel the error closed.
  Channel* fresh = open_channel(*conn);
  ASSERT_NE(fresh, nullptr);
  auto deleted = fresh->queue_delete("du.q", /*if_unused=*/true);
  ASSERT_TRUE(deleted.ok()) << deleted.error().text;
}

TEST_F(ChannelQueue, DeleteIfEmptyRefusesAQueueWithMessages) {
  ASSERT_TRUE(ch->queue_declare("de.q").ok());
  fill(*ch, "de.q", 1);
  EXPECT_TRUE(failed_with(ch->queue_delete("de.q", false, /*if_empty=*/true), 406,
                          "PRECONDITION_FAILED - queue 'de.q' in vhost '/' not empty"));
  Channel* fresh = open_channel(*conn);
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(ready(*fresh, "de.q"), 1u);  // the refused delete changed nothing
  ASSERT_TRUE(fresh->queue_purge("de.q").ok());
  auto deleted = fresh->queue_delete("de.q", false, /*if_empty=*/true);
  ASSERT_TRUE(deleted.ok()) << deleted.error().text;
  EXPECT_EQ(*deleted, 0u);
}

TEST_F(ChannelQueue, DeleteCountsMessagesAndCancelsConsumers) {
  ASSERT_TRUE(ch->queue_declare("del.q").ok());
  fill(*ch, "del.q", 2);
  Connection* listener = connect();
  ASSERT_NE(listener, nullptr);
  Channel* lc = open_channel(*listener);
  ASSERT_NE(lc, nullptr);
  ASSERT_TRUE(lc->qos(1));  // keeps one message ready
  std::vector<std::string> cancelled;
  lc->on_cancel([&](std::string_view tag) { cancelled.emplace_back(tag); });
  int delivered = 0;
  auto tag = lc->consume("del.q", [&](const client::Delivery&) { ++delivered; });
  ASSERT_TRUE(tag.ok()) << tag.error().text;
  ASSERT_TRUE(pump_until(*listener, [&] { return delivered == 1; }));
  auto deleted = ch->queue_delete("del.q");
  ASSERT_TRUE(deleted.ok()) << deleted.error().text;
  EXPECT_EQ(*deleted, 1u);  // ready ones only: the unacked one was the consumer's
  ASSERT_TRUE(pump_until(*listener, [&] { return !cancelled.empty(); }));
  EXPECT_EQ(cancelled, (std::vector<std::string>{*tag}));
  EXPECT_TRUE(lc->is_open());
  // Deleting a queue that does not exist is not an error.
  auto again = ch->queue_delete("del.q");
  ASSERT_TRUE(again.ok()) << again.error().text;
  EXPECT_EQ(*again, 0u);
}

TEST_F(ChannelQueue, PurgeCountsReadyMessagesAndKeepsTheUnacked) {
  const auto q = temp_queue(*ch);
  fill(*ch, q, 5);
  const uint64_t tag = get_tag(*ch, q);
  auto purged = ch->queue_purge(q);
  ASSERT_TRUE(purged.ok()) << purged.error().text;
  EXPECT_EQ(*purged, 4u);
  purged = ch->queue_purge(q);
  ASSERT_TRUE(purged.ok()) << purged.error().text;
  EXPECT_EQ(*purged, 0u);
  ASSERT_TRUE(ch->reject(tag, /*requeue=*/true));
  EXPECT_EQ(drain(*ch, q), (std::vector<std::string>{"0*"}));
}

}  // namespace
}  // namespace pulse::server::testing
