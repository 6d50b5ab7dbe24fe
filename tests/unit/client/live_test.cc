// The client against a real broker: a pulsed process started on a free port with a temporary
// data directory (or the broker named by $PULSE_CLIENT_TEST_URI, e.g. a RabbitMQ node).
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "client/channel.h"
#include "client/connection.h"
#include "free_ports.h"

namespace pulse::client {
namespace {

QueueOptions passive_queue() {
  QueueOptions o;
  o.passive = true;
  return o;
}

using std::chrono::milliseconds;

using testing::free_ports;

class LiveBroker : public ::testing::Environment {
 public:
  void SetUp() override {
    if (const char* uri = std::getenv("PULSE_CLIENT_TEST_URI"); uri && *uri) {
      auto o = parse_uri(uri);
      ASSERT_TRUE(o.ok()) << o.error().text;
      options = *o;
      return;
    }
    dir_ = std::filesystem::temp_directory_path() /
           ("pulse-client-live-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    // Every listener on a free port: a pulsed on the default ports may be running beside us.
    const auto ports = free_ports(5);
    options.port = ports[0];
    const std::string listen = "127.0.0.1:" + std::to_string(ports[0]);
    const std::string http = "127.0.0.1:" + std::to_string(ports[1]);
    const std::string prometheus = "127.0.0.1:" + std::to_string(ports[2]);
    const std::string stomp = "127.0.0.1:" + std::to_string(ports[3]);
    const std::string web_stomp = "127.0.0.1:" + std::to_string(ports[4]);
    const std::string data = (dir_ / "data").string(), log = (dir_ / "pulsed.log").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      FILE* f = std::freopen(log.c_str(), "w", stdout);
      (void)f;
      ::dup2(STDOUT_FILENO, STDERR_FILENO);
      ::execl(PULSED_BIN, PULSED_BIN, "--data-dir", data.c_str(), "--amqp-listen", listen.c_str(),
              "--http-listen", http.c_str(), "--prometheus-listen", prometheus.c_str(),
              "--stomp-listen", stomp.c_str(), "--web-stomp-listen", web_stomp.c_str(),
              "--log-level", "warning", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      auto c = Connection::open(options);
      if (c.ok()) {
        (void)(*c)->close();
        return;
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    // Not FAIL(): a failed environment makes gtest skip every test, which ctest counts as
    // skipped, not failed. Each test fails instead (Live::SetUp).
    start_error = "pulsed did not start; see " + log;
  }
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
      std::filesystem::remove_all(dir_);
    }
  }
  static ConnectionOptions options;
  static std::string start_error;

 private:
  pid_t pid_ = -1;
  std::filesystem::path dir_;
};
ConnectionOptions LiveBroker::options;
std::string LiveBroker::start_error;

std::string unique(const std::string& prefix) {
  static int n = 0;
  return prefix + "." + std::to_string(::getpid()) + "." + std::to_string(++n);
}

struct Live : ::testing::Test {
  void SetUp() override {
    ASSERT_EQ(LiveBroker::start_error, "");
    auto c = Connection::open(LiveBroker::options);
    ASSERT_TRUE(c.ok()) << c.error().text;
    conn = std::move(*c);
    auto r = conn->open_channel();
    ASSERT_TRUE(r.ok()) << r.error().text;
    ch = *r;
  }
  void TearDown() override {
    if (conn && conn->is_open()) {
      EXPECT_TRUE(conn->close().ok());
    }
  }
  std::unique_ptr<Connection> conn;
  Channel* ch = nullptr;
};

TEST_F(Live, PublishConfirmConsumeInOrder) {
  const std::string q = unique("client.live");
  ASSERT_TRUE(ch->queue_declare(q).ok());
  ASSERT_TRUE(ch->confirm_select().ok());
  uint64_t acked = 0, nacked = 0;
  ch->on_confirm([&](uint64_t a, uint64_t b, bool ack) { (ack ? acked : nacked) += b - a + 1; });
  constexpr int kN = 20000;
  for (int i = 0; i < kN; ++i) {
    ASSERT_TRUE(ch->publish("", q, "m" + std::to_string(i)).ok());
  }
  ASSERT_TRUE(ch->wait_for_confirms().ok());
  EXPECT_EQ(acked, uint64_t{kN});
  EXPECT_EQ(nacked, 0u);
  EXPECT_GT(conn->stats().writes, 0u);
  EXPECT_LT(conn->stats().writes, kN / 50u);  // batched

  auto c2 = Connection::open(LiveBroker::options);
  ASSERT_TRUE(c2.ok());
  Channel* cons = *(*c2)->open_channel();
  ASSERT_TRUE(cons->qos(100).ok());
  int next = 0;
  bool in_order = true;
  auto tag = cons->consume(q, [&](const Delivery& d) {
    in_order = in_order && d.body == "m" + std::to_string(next);
    ++next;
    if (next % 50 == 0) (void)d.channel->ack(d.delivery_tag, true);
  });
  ASSERT_TRUE(tag.ok()) << tag.error().text;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (next < kN && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE((*c2)->pump(milliseconds(100)).ok());
  }
  EXPECT_EQ(next, kN);
  EXPECT_TRUE(in_order);
  ASSERT_TRUE(cons->cancel(*tag).ok());
  auto deleted = cons->queue_delete(q);
  ASSERT_TRUE(deleted.ok()) << deleted.error().text;
  EXPECT_EQ(*deleted, 0u);  // everything was acked
  EXPECT_TRUE((*c2)->close().ok());
}

TEST_F(Live, ChannelErrorsCarryRabbitMQsReply) {
  auto r = ch->queue_declare("client.live.missing", passive_queue());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 404);
  EXPECT_EQ(r.error().text, "NOT_FOUND - no queue 'client.live.missing' in vhost '/'");
  EXPECT_FALSE(ch->is_open());
  EXPECT_TRUE(conn->is_open());
  EXPECT_TRUE(ch->close().ok());
  auto again = conn->open_channel();
  ASSERT_TRUE(again.ok());
  auto st = (*again)->exchange_declare("amq.direct", "topic");  // wrong type
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, 406);
}

TEST_F(Live, LoginAndVhostRefusals) {
  ConnectionOptions o = LiveBroker::options;
  o.password = "wrong";
  auto c = Connection::open(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, 403);
  EXPECT_NE(c.error().text.find("ACCESS_REFUSED"), std::string::npos) << c.error().text;
  o = LiveBroker::options;
  o.vhost = "no-such-vhost";
  c = Connection::open(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, 530);
}

TEST_F(Live, BigMessagesGetAndBindings) {
  const std::string q = unique("client.live.big"), ex = unique("client.live.ex");
  ASSERT_TRUE(ch->exchange_declare(ex, "topic").ok());
  ASSERT_TRUE(ch->queue_declare(q).ok());
  ASSERT_TRUE(ch->queue_bind(q, ex, "a.*").ok());
  std::string big(1 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  amqp::BasicProperties props;
  props.set_content_type("application/octet-stream");
  props.set_headers({{"k", int32_t{7}}});
  ASSERT_TRUE(ch->publish(ex, "a.b", big, props).ok());
  ASSERT_TRUE(ch->publish(ex, "x.y", "unrouted").ok());
  auto got = ch->get(q, true);
  for (int i = 0; i < 50 && got.ok() && !got->has_value(); ++i) {
    std::this_thread::sleep_for(milliseconds(20));
    got = ch->get(q, true);
  }
  ASSERT_TRUE(got.ok()) << got.error().text;
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->body, big);
  EXPECT_EQ((*got)->properties.content_type, "application/octet-stream");
  EXPECT_EQ((*got)->routing_key, "a.b");
  auto empty = ch->get(q, true);
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->has_value());
  ASSERT_TRUE(ch->queue_unbind(q, ex, "a.*").ok());
  ASSERT_TRUE(ch->exchange_delete(ex).ok());
  ASSERT_TRUE(ch->queue_delete(q).ok());
}

TEST_F(Live, MandatoryReturnAndNackedRequeue) {
  std::string returned;
  ch->on_return([&](const Returned& r) { returned = std::string(r.reply_text); });
  ASSERT_TRUE(ch->publish("amq.direct", "nowhere", "x", {}, true).ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (returned.empty() && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(conn->pump(milliseconds(50)).ok());
  }
  EXPECT_EQ(returned, "NO_ROUTE");

  const std::string q = unique("client.live.requeue");
  ASSERT_TRUE(ch->queue_declare(q).ok());
  ASSERT_TRUE(ch->publish("", q, "again").ok());
  std::vector<bool> redelivered;
  auto tag = ch->consume(q, [&](const Delivery& d) {
    redelivered.push_back(d.redelivered);
    if (!d.redelivered) {
      (void)d.channel->nack(d.delivery_tag, false, true);
    } else {
      (void)d.channel->ack(d.delivery_tag);
    }
  });
  ASSERT_TRUE(tag.ok());
  while (redelivered.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(conn->pump(milliseconds(50)).ok());
  }
  EXPECT_EQ(redelivered, (std::vector<bool>{false, true}));
  ASSERT_TRUE(ch->queue_delete(q).ok());
}

}  // namespace
}  // namespace pulse::client

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new pulse::client::LiveBroker);
  return RUN_ALL_TESTS();
}
