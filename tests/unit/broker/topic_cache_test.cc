// The topic exchange's route cache (issue 4): memoised routes must always equal the trie's,
// across bind / unbind / destination deletion, and stay bounded.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "broker/exchange.h"
#include "broker/message.h"

namespace pulse::broker {
namespace {

class TopicCache : public ::testing::Test {
 protected:
  Exchange x{"t", ExchangeType::kTopic, false, false, false, {}};
  Message msg;

  void bind(const std::string& queue, const std::string& pattern) {
    ASSERT_TRUE(x.add_binding(Binding{"t", Destination{false, queue}, pattern, {}}));
  }
  std::set<std::string> route(std::string_view key) {
    std::vector<const Destination*> out;
    x.route(msg, key, out);
    std::set<std::string> names;
    for (const auto* d : out) names.insert(d->name);
    EXPECT_EQ(names.size(), out.size()) << "a destination twice for " << key;
    return names;
  }
};

using Names = std::set<std::string>;

TEST_F(TopicCache, RepeatedKeysHitTheCacheAndRouteTheSame) {
  bind("q1", "a.*");
  bind("q2", "a.#");
  bind("q3", "#.c");
  EXPECT_EQ(x.topic_route_cache_size(), 0u);
  EXPECT_EQ(route("a.b"), (Names{"q1", "q2"}));
  EXPECT_EQ(x.topic_route_cache_size(), 1u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(route("a.b"), (Names{"q1", "q2"}));
  EXPECT_EQ(x.topic_route_cache_size(), 1u);
  EXPECT_EQ(route("a.b.c"), (Names{"q2", "q3"}));
  EXPECT_EQ(route("x"), Names{});  // no match is cached too
  EXPECT_EQ(x.topic_route_cache_size(), 3u);
  EXPECT_EQ(route("x"), Names{});
}

TEST_F(TopicCache, BindInvalidates) {
  bind("q1", "a.*");
  EXPECT_EQ(route("a.b"), Names{"q1"});
  bind("q2", "#");
  EXPECT_EQ(x.topic_route_cache_size(), 0u);
  EXPECT_EQ(route("a.b"), (Names{"q1", "q2"}));
}

TEST_F(TopicCache, UnbindInvalidates) {
  bind("q1", "a.*");
  bind("q2", "*.b");
  EXPECT_EQ(route("a.b"), (Names{"q1", "q2"}));
  ASSERT_TRUE(x.remove_binding(Destination{false, "q1"}, "a.*", {}));
  EXPECT_EQ(route("a.b"), Names{"q2"});
  // Positions shifted: q2 is now binding 0; a stale cache would name the wrong queue.
  bind("q3", "z");
  EXPECT_EQ(route("a.b"), Names{"q2"});
  EXPECT_EQ(route("z"), Names{"q3"});
}

TEST_F(TopicCache, DeletedDestinationInvalidates) {
  bind("q1", "#");
  bind("q2", "a.b");
  EXPECT_EQ(route("a.b"), (Names{"q1", "q2"}));
  x.remove_bindings_to(Destination{false, "q1"});
  EXPECT_EQ(route("a.b"), Names{"q2"});
  x.remove_bindings_to(Destination{false, "q2"});
  EXPECT_EQ(route("a.b"), Names{});
}

TEST_F(TopicCache, BoundedAndStillCorrectWithManyKeys) {
  bind("even", "k.*.0");
  bind("all", "k.#");
  const size_t keys = 5 * Exchange::kTopicCacheMaxKeys;
  for (int round = 0; round < 2; ++round) {
    for (size_t i = 0; i < keys; ++i) {
      const std::string key = "k." + std::to_string(i) + "." + std::to_string(i % 2);
      EXPECT_EQ(route(key), i % 2 == 0 ? (Names{"even", "all"}) : Names{"all"}) << key;
      ASSERT_LE(x.topic_route_cache_size(), Exchange::kTopicCacheMaxKeys);
    }
  }
}

TEST_F(TopicCache, ReusedKeysAfterAChurnOfUniqueOnesAreCachedAgain) {
  bind("q", "#");
  for (size_t i = 0; i < 40 * Exchange::kTopicCacheMaxKeys; ++i) route("id." + std::to_string(i));
  // However the cache paused, a hot key is cached again once the pause is over.
  for (size_t i = 0; i < 20 * Exchange::kTopicCacheMaxKeys; ++i)
    EXPECT_EQ(route("hot"), Names{"q"});
  EXPECT_GE(x.topic_route_cache_size(), 1u);
  EXPECT_LE(x.topic_route_cache_size(), Exchange::kTopicCacheMaxKeys);
}

TEST_F(TopicCache, OtherTypesAreNotCached) {
  Exchange d{"d", ExchangeType::kDirect, false, false, false, {}};
  ASSERT_TRUE(d.add_binding(Binding{"d", Destination{false, "q"}, "k", {}}));
  std::vector<const Destination*> out;
  d.route(msg, "k", out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(d.topic_route_cache_size(), 0u);
}

}  // namespace
}  // namespace pulse::broker
