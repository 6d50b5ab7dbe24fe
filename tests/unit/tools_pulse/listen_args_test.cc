#include "listen_args.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "argv.h"
#include "line_writer.h"

namespace pulse::tools {
namespace {

using test::Argv;

Parsed<ListenArgs> parse(std::initializer_list<std::string> words, const char* env = nullptr) {
  Argv argv(words);
  return parse_listen_args(argv.argc(), argv.argv(), env);
}

std::vector<std::pair<std::string, std::string>> pairs(const ListenArgs& a) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& b : a.bindings) out.emplace_back(b.exchange, b.topic);
  return out;
}

TEST(ListenArgs, TopicsBelongToTheExchangeBeforeThem) {
  auto p = parse({"pulse-listen", "--exchange", "exchange/a", "--topic", "build.#", "--exchange",
                  "exchange/b", "--exchange", "exchange/c", "--topic", "x.*", "--topic", "y"});
  ASSERT_TRUE(p.args) << p.message;
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(pairs(*p.args), (std::vector<P>{{"exchange/a", "build.#"},
                                            {"exchange/b", "#"},
                                            {"exchange/c", "x.*"},
                                            {"exchange/c", "y"}}));
}

TEST(ListenArgs, DefaultsAndOptions) {
  auto p = parse({"pulse-listen", "--exchange=exchange/a"});
  ASSERT_TRUE(p.args) << p.message;
  EXPECT_EQ(p.args->prefetch, 100);
  EXPECT_EQ(p.args->count, 0u);
  EXPECT_FALSE(p.args->raw);
  EXPECT_FALSE(p.args->durable);
  EXPECT_FALSE(p.args->expires);
  ASSERT_EQ(p.args->endpoints.size(), 1u);
  EXPECT_EQ(p.args->endpoints[0].host, "127.0.0.1");
  EXPECT_EQ(p.args->endpoints[0].port, 5672);
  EXPECT_EQ(p.args->endpoints[0].vhost, "/");

  p = parse({"pulse-listen", "--exchange", "e/x", "--applabel", "app", "--durable", "--expires",
             "60000", "--prefetch", "10", "--count", "3", "--raw", "--user", "me"});
  ASSERT_TRUE(p.args) << p.message;
  const ConsumerOptions o = consumer_options(*p.args);
  EXPECT_EQ(o.applabel, "app");
  EXPECT_TRUE(o.durable);
  EXPECT_EQ(o.expires, std::chrono::milliseconds(60000));
  EXPECT_EQ(o.user, "me");
  EXPECT_EQ(o.prefetch, 3);  // never more in flight than --count wants
  EXPECT_TRUE(p.args->raw);
}

TEST(ListenArgs, UriFlagThenEnvironmentThenDefault) {
  auto p = parse({"pulse-listen", "--exchange", "e"}, "amqp://u:p@h1:1001/v, amqp://h2:1002");
  ASSERT_TRUE(p.args) << p.message;
  ASSERT_EQ(p.args->endpoints.size(), 2u);
  EXPECT_EQ(p.args->endpoints[0].host, "h1");
  EXPECT_EQ(p.args->endpoints[0].user, "u");
  EXPECT_EQ(p.args->endpoints[0].vhost, "v");
  EXPECT_EQ(p.args->endpoints[1].port, 1002);

  p = parse({"pulse-listen", "--exchange", "e", "--uri", "amqp://flag:7/"}, "amqp://env:8/");
  ASSERT_TRUE(p.args) << p.message;
  ASSERT_EQ(p.args->endpoints.size(), 1u);
  EXPECT_EQ(p.args->endpoints[0].host, "flag");

  p = parse({"pulse-listen", "--exchange", "e"}, "");
  ASSERT_TRUE(p.args) << p.message;
  EXPECT_EQ(p.args->endpoints[0].host, "127.0.0.1");
  // The default is the local broker in plaintext, as pulsed listens by default.
  EXPECT_EQ(p.args->endpoints[0].port, 5672);
  EXPECT_FALSE(p.args->endpoints[0].tls);
}

TEST(ListenArgs, AUriWithoutSchemeIsTlsOn5671AsMozillapulse) {
  auto p = parse({"pulse-listen", "--exchange", "e", "--uri", "me:secret@pulse.mozilla.org"});
  ASSERT_TRUE(p.args) << p.message;
  ASSERT_EQ(p.args->endpoints.size(), 1u);
  const auto& e = p.args->endpoints[0];
  EXPECT_EQ(e.host, "pulse.mozilla.org");
  EXPECT_EQ(e.port, 5671);
  EXPECT_TRUE(e.tls);
  EXPECT_TRUE(e.tls_options.verify_peer);
  EXPECT_EQ(e.user, "me");
  EXPECT_EQ(e.password, "secret");
  // --help says so.
  auto help = parse({"pulse-listen", "--help"});
  EXPECT_NE(help.message.find("without a scheme: amqps://"), std::string::npos) << help.message;
}

void expect_usage(const Parsed<ListenArgs>& p, std::string_view fragment) {
  SCOPED_TRACE(fragment);
  EXPECT_FALSE(p.args);
  EXPECT_EQ(p.exit_code, kExitUsage);
  EXPECT_NE(p.message.find(fragment), std::string::npos) << p.message;
}

TEST(ListenArgs, UsageErrors) {
  expect_usage(parse({"pulse-listen"}), "--exchange is required");
  expect_usage(parse({"pulse-listen", "--topic", "a.#", "--exchange", "e"}),
               "--topic 'a.#' comes before any --exchange");
  expect_usage(parse({"pulse-listen", "--exchange", "e", "--durable"}),
               "--durable needs --applabel");
  expect_usage(parse({"pulse-listen", "--exchange", "e", "--user", "9lives"}), "--user");
  expect_usage(parse({"pulse-listen", "--exchange", "e", "--count", "-1"}), "--count");
  expect_usage(parse({"pulse-listen", "--exchange", "e", "--prefetch", "0"}), "--prefetch");
  expect_usage(parse({"pulse-listen", "--exchange", "e", "--expires", "0"}), "--expires");
  expect_usage(parse({"pulse-listen", "--exchange", "e", "--bogus"}), "--bogus");
  expect_usage(parse({"pulse-listen", "--exchange", ""}), "default exchange");
  expect_usage(parse({"pulse-listen", "--exchange", "e", "--uri", "http://x/"}), "--uri");
  expect_usage(parse({"pulse-listen", "--exchange", "e"}, "nope://"), "PULSE_URI");
}

TEST(ListenArgs, HelpGoesToStdoutWithExitZero) {
  auto p = parse({"pulse-listen", "--help"});
  EXPECT_FALSE(p.args);
  EXPECT_EQ(p.exit_code, kExitOk);
  EXPECT_NE(p.message.find("--exchange"), std::string::npos);
  EXPECT_NE(p.message.find("Exit status"), std::string::npos);
}

TEST(LineWriter, BuffersUntilFlushOrFull) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  LineWriter w(fds[1], 8);
  char buf[64];
  w.buffer() += "abc\n";
  w.maybe_flush();  // 4 bytes: below 8, kept
  EXPECT_TRUE(w.flush());
  ASSERT_EQ(read(fds[0], buf, sizeof buf), 4);
  w.buffer() += "1234\n";
  w.maybe_flush();
  w.buffer() += "5678\n";
  w.maybe_flush();  // 10 bytes: written
  ASSERT_EQ(read(fds[0], buf, sizeof buf), 10);
  EXPECT_EQ(std::string(buf, 10), "1234\n5678\n");
  close(fds[0]);
  signal(SIGPIPE, SIG_IGN);
  w.buffer() += "lost\n";
  EXPECT_FALSE(w.flush());
  EXPECT_TRUE(w.failed());
  EXPECT_EQ(w.error(), EPIPE);
  EXPECT_TRUE(w.buffer().empty());
  close(fds[1]);
}

}  // namespace
}  // namespace pulse::tools
