// Message storage end to end below the protocol layer: a real Broker with real QueueLogs in a
// temp data directory, a StorageThread doing real fdatasyncs, and "restarts" that build a new
// broker on the same directory. The event loop is a task list the test pumps.
#include "persist/queue_storage.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "app/boot.h"
#include "app/persistence.h"
#include "store/data_dir.h"

namespace pulse::persist {
namespace {

namespace fs = std::filesystem;

class Loop {
 public:
  void post(std::function<void()> fn) {
    std::lock_guard lock(mu_);
    tasks_.push_back(std::move(fn));
    cv_.notify_all();
  }
  // Runs tasks until `done` holds (or a second passes).
  void run_until(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      std::vector<std::function<void()>> batch;
      {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, std::chrono::milliseconds(10), [&] { return !tasks_.empty(); });
        batch.swap(tasks_);
      }
      for (auto& t : batch) t();
    }
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::function<void()>> tasks_;
};

struct Node {
  Node(const std::string& path, broker::PagingLimits limits = {}) {
    auto d = store::DataDir::open(path);
    EXPECT_TRUE(d.ok()) << d.error().text;
    dir = std::move(*d);
    auto s = dir->open_definitions();
    EXPECT_TRUE(s.ok());
    defs = std::move(*s);
    persister = std::make_unique<app::DefinitionsPersister>(*defs);
    queues = std::make_unique<QueueStorage>(
        *dir, broker, [this](std::function<void()> fn) { loop.post(std::move(fn)); });
    broker.set_message_storage(queues.get());
    broker.set_paging_limits(limits);
    auto b = app::boot_from_store(*defs, dir->initialised_now(), app::Config{}, broker, auth,
                                  *persister, queues.get());
    EXPECT_TRUE(b.ok()) << b.error().text;
    vh = broker.find_vhost("/");
  }
  // An orderly stop, as pulsed's main does it, unless a test pretends to crash.
  ~Node() {
    queues->sync_now();
    if (stops_cleanly) {
      EXPECT_TRUE(queues->mark_clean_shutdown().ok());
    }
    broker.set_definitions_observer(nullptr);
  }
  bool stops_cleanly = true;

  broker::QueuePtr queue(const std::string& name, bool durable, amqp::FieldTable args = {}) {
    broker::QueueDeclare d;
    d.name = name;
    d.durable = durable;
    d.arguments = std::move(args);
    auto r = vh->declare_queue(std::move(d));
    EXPECT_TRUE(r.ok()) << r.error().text;
    return r.ok() ? *r : nullptr;
  }
  broker::PublishOutcome publish(const std::string& key, const std::string& body, bool persistent,
                                 uint8_t priority = 0) {
    broker::Message m;
    m.routing_key = key;
    m.body = body;
    amqp::BasicProperties props;
    if (persistent) props.set_delivery_mode(2);
    if (priority) props.set_priority(priority);
    props.set_message_id("id-" + body);
    m.set_properties(std::move(props));
    auto r = vh->publish(std::move(m));
    EXPECT_TRUE(r.ok());
    return *r;
  }
  void sync() {
    const uint64_t want = broker.durability().write_epoch();
    queues->definitions_changed();  // makes sure a flush is scheduled
    loop.run_until([&] { return broker.durability().synced_epoch() >= want; });
  }

  Loop loop;
  std::unique_ptr<store::DataDir> dir;
  std::unique_ptr<store::DefinitionsStore> defs;
  std::unique_ptr<app::DefinitionsPersister> persister;
  std::unique_ptr<QueueStorage> queues;
  broker::Broker broker;
  auth::AuthStore auth;
  broker::VHost* vh = nullptr;
};

class QueueStorageTest : public ::testing::Test {
 protected:
  QueueStorageTest() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = (fs::temp_directory_path() /
             ("pulse_qs_" + std::string(info->name()) + "_" + std::to_string(::getpid())))
                .string();
    fs::remove_all(path_);
  }
  ~QueueStorageTest() override { fs::remove_all(path_); }
  std::string path_;
};

std::vector<std::string> drain(broker::Queue& q, std::vector<bool>* redelivered = nullptr) {
  std::vector<std::string> out;
  while (auto m = q.get(true)) {
    out.push_back(m->msg->body);
    if (redelivered) redelivered->push_back(m->redelivered);
  }
  return out;
}

uint64_t dir_bytes(const std::string& p) {
  uint64_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(p))
    if (e.is_regular_file()) n += e.file_size();
  return n;
}

TEST_F(QueueStorageTest, PersistentMessagesInDurableQueuesSurviveRestart) {
  {
    Node n(path_);
    n.queue("dq", true);
    n.queue("tq", false);
    EXPECT_TRUE(n.publish("dq", "p1", true).needs_sync);
    EXPECT_FALSE(n.publish("dq", "t1", false).needs_sync);
    EXPECT_TRUE(n.publish("dq", "p2", true).needs_sync);
    EXPECT_FALSE(n.publish("tq", "p3", true).needs_sync);  // non-durable queue: memory only
    n.sync();
  }
  Node n(path_);
  EXPECT_EQ(n.vh->find_queue("tq"), nullptr);
  auto q = n.vh->find_queue("dq");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->message_count(), 2u);
  auto m = q->get(true);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->msg->body, "p1");
  EXPECT_EQ(m->msg->properties().message_id, "id-p1");
  EXPECT_EQ(m->msg->properties().delivery_mode, 2);
  EXPECT_FALSE(m->redelivered);
  EXPECT_EQ(drain(*q), std::vector<std::string>{"p2"});
}

TEST_F(QueueStorageTest, ConfirmEpochCompletesOnlyAfterSync) {
  Node n(path_);
  n.queue("dq", true);
  const uint64_t epoch = n.broker.durability().write_epoch();
  EXPECT_TRUE(n.publish("dq", "p", true).needs_sync);
  EXPECT_LT(n.broker.durability().synced_epoch(), epoch);
  n.loop.run_until([&] { return n.broker.durability().synced_epoch() >= epoch; });
  EXPECT_GE(n.broker.durability().synced_epoch(), epoch);
}

TEST_F(QueueStorageTest, UnackedDeliveriesComeBackRedeliveredAckedOnesDoNot) {
  {
    Node n(path_);
    auto q = n.queue("dq", true);
    for (auto b : {"a", "b", "c", "d"}) n.publish("dq", b, true);
    auto a = q->get(false);  // delivered, never acked
    auto b = q->get(false);  // delivered and acked
    q->settle_acked(*b);
    auto c = q->get(false);  // delivered, then requeued
    q->requeue(std::move(*c));
    n.sync();
  }
  Node n(path_);
  auto q = n.vh->find_queue("dq");
  ASSERT_NE(q, nullptr);
  std::vector<bool> redelivered;
  EXPECT_EQ(drain(*q, &redelivered), (std::vector<std::string>{"a", "c", "d"}));
  EXPECT_EQ(redelivered, (std::vector<bool>{true, true, false}));
}

TEST_F(QueueStorageTest, AfterACrashEveryRecoveredMessageComesBackRedelivered) {
  {
    Node n(path_);
    auto q = n.queue("dq", true);
    for (auto b : {"a", "b", "c"}) n.publish("dq", b, true);
    auto a = q->get(false);  // delivered: its mark may or may not have reached the disk
    n.sync();
    n.stops_cleanly = false;
  }
  {
    Node n(path_);
    EXPECT_TRUE(n.queues->recovering_from_crash());
    auto q = n.vh->find_queue("dq");
    ASSERT_NE(q, nullptr);
    n.publish("dq", "d", true);  // new in this run: a first delivery
    std::vector<bool> redelivered;
    EXPECT_EQ(drain(*q, &redelivered), (std::vector<std::string>{"a", "b", "c", "d"}));
    EXPECT_EQ(redelivered, (std::vector<bool>{true, true, true, false}));
    n.publish("dq", "e", true);
    n.sync();
  }
  // A clean stop after that: the next start trusts the delivery marks again.
  Node n(path_);
  EXPECT_FALSE(n.queues->recovering_from_crash());
  std::vector<bool> redelivered;
  EXPECT_EQ(drain(*n.vh->find_queue("dq"), &redelivered), std::vector<std::string>{"e"});
  EXPECT_EQ(redelivered, std::vector<bool>{false});
}

TEST_F(QueueStorageTest, BacklogPagesOutAndDrainsInOrder) {
  broker::PagingLimits limits{64u << 10, 1u << 20};
  Node n(path_, limits);
  auto q = n.queue("tq", false);
  const std::string pad(1000, 'x');
  for (int i = 0; i < 5000; ++i) n.publish("tq", std::to_string(i) + pad, false);
  EXPECT_EQ(q->message_count(), 5000u);
  EXPECT_GT(q->paged_count(), 4800u);
  EXPECT_LE(q->memory_bytes(), limits.queue_bytes + 2000);
  EXPECT_GT(dir_bytes(path_ + "/paging"), 4000u * 1000);
  auto got = drain(*q);
  ASSERT_EQ(got.size(), 5000u);
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(got[i], std::to_string(i) + pad) << i;
  EXPECT_EQ(q->paged_count(), 0u);
  EXPECT_EQ(n.broker.queued_memory(), 0u);
}

TEST_F(QueueStorageTest, GlobalBudgetPagesAcrossQueues) {
  Node n(path_, broker::PagingLimits{64u << 20, 256u << 10});
  auto a = n.queue("a", false);
  auto b = n.queue("b", false);
  const std::string pad(1000, 'y');
  for (int i = 0; i < 1000; ++i) {
    n.publish("a", pad, false);
    n.publish("b", pad, false);
  }
  EXPECT_LE(n.broker.queued_memory(), (256u << 10) + 2000);
  EXPECT_GT(a->paged_count() + b->paged_count(), 1500u);
  EXPECT_EQ(drain(*a).size(), 1000u);
  EXPECT_EQ(drain(*b).size(), 1000u);
}

TEST_F(QueueStorageTest, PagedPriorityQueueKeepsPriorityOrder) {
  Node n(path_, broker::PagingLimits{16u << 10, 1u << 20});
  amqp::FieldTable args;
  args.emplace_back("x-max-priority", int64_t{5});
  auto q = n.queue("pq", false, args);
  const std::string pad(500, 'z');
  for (int i = 0; i < 600; ++i) n.publish("pq", std::to_string(i % 3) + pad, false, i % 3);
  EXPECT_GT(q->paged_count(), 500u);
  auto got = drain(*q);
  ASSERT_EQ(got.size(), 600u);
  for (int i = 0; i < 600; ++i) EXPECT_EQ(got[i][0], "210"[i / 200]) << i;
}

TEST_F(QueueStorageTest, PagedTransientMessagesDoNotSurviveRestart) {
  {
    Node n(path_, broker::PagingLimits{8u << 10, 1u << 20});
    auto q = n.queue("dq", true);
    const std::string pad(1000, 'p');
    for (int i = 0; i < 100; ++i) n.publish("dq", std::to_string(i) + pad, i % 2 == 0);
    EXPECT_GT(q->paged_count(), 80u);
    n.sync();
  }
  Node n(path_);
  auto q = n.vh->find_queue("dq");
  ASSERT_NE(q, nullptr);
  auto got = drain(*q);
  ASSERT_EQ(got.size(), 50u);
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(got[i].substr(0, got[i].size() - 1000), std::to_string(2 * i));
}

TEST_F(QueueStorageTest, MaxLengthDropsHeadsAcrossThePagedTail) {
  Node n(path_, broker::PagingLimits{8u << 10, 1u << 20});
  amqp::FieldTable args;
  args.emplace_back("x-max-length", int64_t{50});
  auto q = n.queue("lq", false, args);
  const std::string pad(1000, 'l');
  for (int i = 0; i < 200; ++i) n.publish("lq", std::to_string(i) + pad, false);
  EXPECT_EQ(q->message_count(), 50u);
  auto got = drain(*q);
  ASSERT_EQ(got.size(), 50u);
  EXPECT_EQ(got.front().substr(0, 3), "150");
}

TEST_F(QueueStorageTest, PurgeAndDeleteFreeTheDisk) {
  Node n(path_);
  auto q = n.queue("dq", true);
  const std::string pad(10000, 'd');
  for (int i = 0; i < 500; ++i) n.publish("dq", pad, true);
  n.sync();
  const std::string qdir = path_ + "/queues";
  EXPECT_GT(dir_bytes(qdir), 500u * 10000);
  EXPECT_EQ(q->purge(), 500u);
  EXPECT_LT(dir_bytes(qdir), 64u << 10);
  for (int i = 0; i < 100; ++i) n.publish("dq", pad, true);
  ASSERT_TRUE(n.vh->delete_queue("dq", false, false, 0).ok());
  EXPECT_TRUE(fs::is_empty(qdir));
}

TEST_F(QueueStorageTest, DrainingWithAcksFreesSegments) {
  Node n(path_);
  auto q = n.queue("dq", true);
  const std::string pad(100000, 'k');
  for (int i = 0; i < 300; ++i) n.publish("dq", pad, true);  // ~30 MB, several segments
  n.sync();
  while (auto m = q->get(false)) q->settle_acked(*m);
  n.sync();
  EXPECT_LT(dir_bytes(path_ + "/queues"), 9u << 20);  // at most the segment being written
}

TEST_F(QueueStorageTest, MessagesAckedWithinTheirRoundAreNeverWritten) {
  const std::string pad(10000, 'w');
  {
    Node n(path_);
    auto q = n.queue("dq", true);
    const uint64_t epoch = n.broker.durability().write_epoch();
    for (int i = 0; i < 100; ++i) n.publish("dq", std::to_string(i) + pad, true);
    // Delivered before the round is flushed: even ones acked, odd ones left unacked.
    for (int i = 0; i < 100; ++i) {
      auto m = q->get(false);
      ASSERT_TRUE(m);
      if (i % 2 == 0) q->settle_acked(*m);
    }
    n.sync();
    EXPECT_GE(n.broker.durability().synced_epoch(), epoch);
    // Only the 50 unacked bodies reached the disk.
    const uint64_t bytes = dir_bytes(path_ + "/queues");
    EXPECT_GT(bytes, 50u * 10000);
    EXPECT_LT(bytes, 55u * 10000);  // all 100 would be over 100 * 10000
  }
  Node n(path_);
  auto q = n.vh->find_queue("dq");
  ASSERT_NE(q, nullptr);
  std::vector<bool> redelivered;
  auto got = drain(*q, &redelivered);
  ASSERT_EQ(got.size(), 50u);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i], std::to_string(2 * i + 1) + pad);
    EXPECT_TRUE(redelivered[i]);
  }
}

TEST_F(QueueStorageTest, DirectoriesOfDeletedQueuesAreRemovedAtStart) {
  { Node n(path_); }
  fs::create_directories(path_ + "/queues/999");
  fs::create_directories(path_ + "/paging/3");
  Node n(path_);
  EXPECT_FALSE(fs::exists(path_ + "/queues/999"));
  EXPECT_FALSE(fs::exists(path_ + "/paging/3"));
}

}  // namespace
}  // namespace pulse::persist
