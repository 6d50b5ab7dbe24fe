// Topic trie and headers matching, table-driven against RabbitMQ 3.x behaviour.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "broker/routing/headers_match.h"
#include "broker/routing/topic_trie.h"

namespace pulse::broker {
namespace {

using amqp::FieldArray;
using amqp::FieldTable;
using amqp::FieldValue;

// --- topic ------------------------------------------------------------------------------------

std::vector<std::string> words_of(std::string_view s) {
  std::vector<std::string> w;
  for_each_topic_word(s, [&w](std::string_view x) { w.emplace_back(x); });
  return w;
}

// Straightforward recursive matcher (exponential, fine for short inputs): the test oracle.
bool reference_match(const std::vector<std::string>& p, size_t i, const std::vector<std::string>& k,
                     size_t j) {
  if (i == p.size()) return j == k.size();
  if (p[i] == "#") {
    for (size_t skip = j; skip <= k.size(); ++skip)
      if (reference_match(p, i + 1, k, skip)) return true;
    return false;
  }
  if (j == k.size()) return false;
  if (p[i] == "*" || p[i] == k[j]) return reference_match(p, i + 1, k, j + 1);
  return false;
}

bool reference_match(std::string_view pattern, std::string_view key) {
  return reference_match(words_of(pattern), 0, words_of(key), 0);
}

bool trie_matches(std::string_view pattern, std::string_view key) {
  TopicTrie<int> t;
  t.add(pattern, 1);
  std::vector<int> out;
  t.match(key, out);
  return !out.empty();
}

TEST(TopicWords, SplitLikeRabbitMQ) {
  EXPECT_EQ(words_of(""), std::vector<std::string>{});
  EXPECT_EQ(words_of("a"), std::vector<std::string>{"a"});
  EXPECT_EQ(words_of("a.b"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(words_of("."), (std::vector<std::string>{"", ""}));
  EXPECT_EQ(words_of("a..b"), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(words_of(".a."), (std::vector<std::string>{"", "a", ""}));
}

struct TopicCase {
  const char* pattern;
  const char* key;
  bool match;
};

class TopicMatch : public ::testing::TestWithParam<TopicCase> {};

TEST_P(TopicMatch, AgreesWithRabbitMQ) {
  const TopicCase& c = GetParam();
  EXPECT_EQ(trie_matches(c.pattern, c.key), c.match)
      << "pattern '" << c.pattern << "' key '" << c.key << "'";
  EXPECT_EQ(reference_match(c.pattern, c.key), c.match) << "oracle disagrees";
}

INSTANTIATE_TEST_SUITE_P(
    Cases, TopicMatch,
    ::testing::Values(
        // literals
        TopicCase{"a.b.c", "a.b.c", true}, TopicCase{"a.b.c", "a.b", false},
        TopicCase{"a.b", "a.b.c", false}, TopicCase{"a.b.c", "a.b.d", false},
        TopicCase{"abc", "ab", false},
        // '*' is exactly one word, possibly empty
        TopicCase{"*", "a", true}, TopicCase{"*", "", false}, TopicCase{"*", "a.b", false},
        TopicCase{"*", ".", false}, TopicCase{"*.*", ".", true}, TopicCase{"a.*", "a.", true},
        TopicCase{"a.*.c", "a..c", true}, TopicCase{"a.*.c", "a.c", false},
        TopicCase{"*.b.*", "a.b.c", true}, TopicCase{"a*", "ab", false},
        // '#' is zero or more words
        TopicCase{"#", "", true}, TopicCase{"#", "a", true}, TopicCase{"#", "a.b.c", true},
        TopicCase{"#", ".", true}, TopicCase{"a.#", "a", true}, TopicCase{"a.#", "a.b.c", true},
        TopicCase{"a.#", "b.a", false}, TopicCase{"#.a", "a", true},
        TopicCase{"#.a", "x.y.a", true}, TopicCase{"#.a", "a.x", false},
        TopicCase{"a.#.b", "a.b", true}, TopicCase{"a.#.b", "a.x.y.b", true},
        TopicCase{"a.#.b", "a.x.y.c", false}, TopicCase{"#.#", "", true},
        TopicCase{"#.#", "a.b", true}, TopicCase{"#.#.#.#", "a", true},
        TopicCase{"*.#.*", "a", false}, TopicCase{"*.#.*", "a.b", true},
        TopicCase{"*.#.*", "a.b.c.d", true}, TopicCase{"#.*", "", false},
        TopicCase{"#.*", "a", true}, TopicCase{"#.*.#", "a.b", true}, TopicCase{"a#", "a.b", false},
        TopicCase{"#a", "a", false},
        // empty patterns and empty words
        TopicCase{"", "", true}, TopicCase{"", "a", false}, TopicCase{"", ".", false},
        TopicCase{"a..b", "a..b", true}, TopicCase{"a..b", "a.b", false}, TopicCase{".", ".", true},
        TopicCase{".", "", false}, TopicCase{"a.", "a.", true}, TopicCase{"a.", "a", false},
        TopicCase{".a", ".a", true}, TopicCase{".a", "a", false}, TopicCase{"#.", "a.", true},
        TopicCase{"#.", "a", false}, TopicCase{".#", ".x.y", true},
        // wildcard characters in routing keys are literal
        TopicCase{"a.b", "a.*", false}, TopicCase{"*", "*", true}, TopicCase{"#", "#", true},
        TopicCase{"a.*", "a.#", true}));

TEST(TopicTrie, EachDestinationReportedOnceInOrder) {
  TopicTrie<std::string> t;
  t.add("a.b", "q1");
  t.add("a.*", "q1");
  t.add("#", "q1");
  t.add("#.b", "q2");
  t.add("a.#", "q3");
  t.add("x.y", "q4");
  std::vector<std::string> out{"pre-existing"};
  t.match("a.b", out);
  EXPECT_EQ(out, (std::vector<std::string>{"pre-existing", "q1", "q2", "q3"}));
}

TEST(TopicTrie, RemoveIsCountedAndReportsExistence) {
  TopicTrie<int> t;
  t.add("a.#", 1);
  t.add("a.#", 1);  // a second binding that differs only in arguments
  t.add("a.*", 2);
  EXPECT_EQ(t.size(), 3u);
  EXPECT_FALSE(t.remove("a.#", 2));
  EXPECT_FALSE(t.remove("a.b", 1));
  EXPECT_FALSE(t.remove("a", 1));
  EXPECT_FALSE(t.remove("a.#.c", 1));
  EXPECT_TRUE(t.remove("a.#", 1));
  std::vector<int> out;
  t.match("a.b", out);
  EXPECT_EQ(out, (std::vector<int>{1, 2}));
  EXPECT_TRUE(t.remove("a.#", 1));
  EXPECT_FALSE(t.remove("a.#", 1));
  out.clear();
  t.match("a.b", out);
  EXPECT_EQ(out, (std::vector<int>{2}));
  EXPECT_TRUE(t.remove("a.*", 2));
  EXPECT_TRUE(t.empty());
  out.clear();
  t.match("a.b", out);
  EXPECT_TRUE(out.empty());
}

TEST(TopicTrie, EmptyPatternAndWildcardsCoexist) {
  TopicTrie<int> t;
  t.add("", 1);
  t.add("#", 2);
  t.add("*", 3);
  std::vector<int> out;
  t.match("", out);
  EXPECT_EQ(out, (std::vector<int>{1, 2}));
  out.clear();
  t.match("x", out);
  EXPECT_EQ(out, (std::vector<int>{2, 3}));
  EXPECT_TRUE(t.remove("", 1));
  out.clear();
  t.match("", out);
  EXPECT_EQ(out, (std::vector<int>{2}));
}

TEST(TopicTrie, ManyHashesStayLinear) {
  // Without deduplicating (node, position) states this is exponential in the number of '#'.
  std::string pattern = "#";
  for (int i = 0; i < 200; ++i) pattern += ".#";
  pattern += ".z";
  std::string key = "a";
  for (int i = 0; i < 120; ++i) key += ".a";
  TopicTrie<int> t;
  t.add(pattern, 1);
  std::vector<int> out;
  t.match(key, out);
  EXPECT_TRUE(out.empty());
  t.match(key + ".z", out);
  EXPECT_EQ(out, std::vector<int>{1});
}

TEST(TopicTrie, RandomizedAgainstReference) {
  std::mt19937 rng(12345);
  const std::vector<std::string> pattern_words{"a", "b", "", "*", "#"};
  const std::vector<std::string> key_words{"a", "b", "", "*"};
  auto make = [&rng](const std::vector<std::string>& vocab, bool allow_empty) {
    const int n = static_cast<int>(rng() % 6);
    if (n == 0 && allow_empty) return std::string();
    std::string s;
    for (int i = 0; i < std::max(n, 1); ++i) {
      if (i) s += '.';
      s += vocab[rng() % vocab.size()];
    }
    return s;
  };
  std::vector<std::string> patterns;
  TopicTrie<int> t;
  for (int i = 0; i < 60; ++i) {
    patterns.push_back(make(pattern_words, true));
    t.add(patterns.back(), i);
  }
  for (int k = 0; k < 2000; ++k) {
    const std::string key = make(key_words, true);
    std::vector<int> expected;
    for (int i = 0; i < static_cast<int>(patterns.size()); ++i)
      if (reference_match(patterns[i], key)) expected.push_back(i);
    std::vector<int> got;
    t.match(key, got);
    ASSERT_EQ(got, expected) << "key '" << key << "'";
  }
  // Remove half and check again, so pruning keeps shared prefixes intact.
  for (int i = 0; i < 60; i += 2) ASSERT_TRUE(t.remove(patterns[i], i)) << patterns[i];
  for (int k = 0; k < 500; ++k) {
    const std::string key = make(key_words, true);
    std::vector<int> expected;
    for (int i = 1; i < 60; i += 2)
      if (reference_match(patterns[i], key)) expected.push_back(i);
    std::vector<int> got;
    t.match(key, got);
    ASSERT_EQ(got, expected) << "key '" << key << "'";
  }
}

// --- headers ----------------------------------------------------------------------------------

struct HeadersCase {
  const char* name;
  FieldTable binding;
  std::optional<FieldTable> headers;  // nullopt: the message has no headers property
  bool match;
};

void PrintTo(const HeadersCase& c, std::ostream* os) {
  *os << c.name;
}

FieldValue S(const char* s) {
  return FieldValue(std::string(s));
}

class HeadersMatch : public ::testing::TestWithParam<HeadersCase> {};

TEST_P(HeadersMatch, AgreesWithRabbitMQ) {
  const HeadersCase& c = GetParam();
  EXPECT_EQ(headers_match(c.binding, c.headers ? &*c.headers : nullptr), c.match);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, HeadersMatch,
    ::testing::Values(
        HeadersCase{"all_default",
                    {{"a", S("1")}, {"b", S("2")}},
                    FieldTable{{"b", S("2")}, {"a", S("1")}, {"c", S("3")}},
                    true},
        HeadersCase{
            "all_one_missing", {{"a", S("1")}, {"b", S("2")}}, FieldTable{{"a", S("1")}}, false},
        HeadersCase{"all_one_differs",
                    {{"x-match", S("all")}, {"a", S("1")}, {"b", S("2")}},
                    FieldTable{{"a", S("1")}, {"b", S("3")}},
                    false},
        HeadersCase{
            "all_no_criteria_matches_anything", {{"x-match", S("all")}}, std::nullopt, true},
        HeadersCase{"all_no_headers", {{"a", S("1")}}, std::nullopt, false},
        HeadersCase{"any_one",
                    {{"x-match", S("any")}, {"a", S("1")}, {"b", S("2")}},
                    FieldTable{{"b", S("2")}},
                    true},
        HeadersCase{
            "any_none", {{"x-match", S("any")}, {"a", S("1")}}, FieldTable{{"a", S("2")}}, false},
        HeadersCase{"any_no_criteria_matches_nothing",
                    {{"x-match", S("any")}},
                    FieldTable{{"a", S("1")}},
                    false},
        HeadersCase{"any_no_headers", {{"x-match", S("any")}, {"a", S("1")}}, std::nullopt, false},
        HeadersCase{
            "void_is_presence", {{"a", FieldValue()}}, FieldTable{{"a", FieldValue(7)}}, true},
        HeadersCase{"void_absent", {{"a", FieldValue()}}, FieldTable{{"b", FieldValue(7)}}, false},
        HeadersCase{"any_void_presence",
                    {{"x-match", S("any")}, {"z", FieldValue()}},
                    FieldTable{{"z", FieldValue(true)}},
                    true},
        HeadersCase{"x_keys_ignored_all",
                    {{"x-foo", S("1")}, {"a", S("1")}},
                    FieldTable{{"a", S("1")}},
                    true},
        HeadersCase{"x_only_all_matches_everything", {{"x-foo", S("1")}}, FieldTable{}, true},
        HeadersCase{"x_keys_ignored_any",
                    {{"x-match", S("any")}, {"x-foo", S("1")}},
                    FieldTable{{"x-foo", S("1")}},
                    false},
        HeadersCase{"all_with_x_uses_x_keys",
                    {{"x-match", S("all-with-x")}, {"x-foo", S("1")}},
                    FieldTable{{"x-foo", S("2")}},
                    false},
        HeadersCase{"all_with_x_match",
                    {{"x-match", S("all-with-x")}, {"x-foo", S("1")}},
                    FieldTable{{"x-foo", S("1")}},
                    true},
        HeadersCase{"any_with_x_match",
                    {{"x-match", S("any-with-x")}, {"x-foo", S("1")}, {"a", S("no")}},
                    FieldTable{{"x-foo", S("1")}},
                    true},
        HeadersCase{
            "x_match_header_not_a_criterion", {{"x-match", S("all-with-x")}}, FieldTable{}, true},
        HeadersCase{"unknown_mode_is_all",
                    {{"x-match", S("some")}, {"a", S("1")}},
                    FieldTable{{"b", S("1")}},
                    false},
        HeadersCase{"non_string_mode_is_all",
                    {{"x-match", FieldValue(amqp::ByteArray{"any"})}, {"a", S("1")}, {"b", S("2")}},
                    FieldTable{{"a", S("1")}},
                    false},
        // Values compare like Erlang's ==: numbers by value across types...
        HeadersCase{"int_widths",
                    {{"n", FieldValue(int8_t{5})}},
                    FieldTable{{"n", FieldValue(int64_t{5})}},
                    true},
        HeadersCase{"int_vs_double",
                    {{"n", FieldValue(int32_t{1})}},
                    FieldTable{{"n", FieldValue(1.0)}},
                    true},
        HeadersCase{"int_vs_float_differs",
                    {{"n", FieldValue(int32_t{1})}},
                    FieldTable{{"n", FieldValue(1.5f)}},
                    false},
        HeadersCase{"negative_vs_unsigned",
                    {{"n", FieldValue(int32_t{-1})}},
                    FieldTable{{"n", FieldValue(uint32_t{0xffffffff})}},
                    false},
        HeadersCase{"timestamp_is_an_integer",
                    {{"n", FieldValue(amqp::Timestamp{42})}},
                    FieldTable{{"n", FieldValue(int64_t{42})}},
                    true},
        // ...but a number is never a string, and bools are not numbers.
        HeadersCase{
            "int_vs_string", {{"n", FieldValue(int32_t{1})}}, FieldTable{{"n", S("1")}}, false},
        HeadersCase{
            "bool_vs_int", {{"b", FieldValue(true)}}, FieldTable{{"b", FieldValue(1)}}, false},
        HeadersCase{
            "bool_equal", {{"b", FieldValue(false)}}, FieldTable{{"b", FieldValue(false)}}, true},
        HeadersCase{"longstr_vs_bytes",
                    {{"s", S("ab")}},
                    FieldTable{{"s", FieldValue(amqp::ByteArray{"ab"})}},
                    true},
        HeadersCase{"decimal",
                    {{"d", FieldValue(amqp::Decimal{2, 314})}},
                    FieldTable{{"d", FieldValue(amqp::Decimal{2, 314})}},
                    true},
        HeadersCase{"decimal_scale_differs",
                    {{"d", FieldValue(amqp::Decimal{1, 314})}},
                    FieldTable{{"d", FieldValue(amqp::Decimal{2, 314})}},
                    false},
        // Nested values keep their type tags in Erlang, so types must agree inside them.
        HeadersCase{"nested_table_equal",
                    {{"t", FieldValue(FieldTable{{"k", FieldValue(1)}})}},
                    FieldTable{{"t", FieldValue(FieldTable{{"k", FieldValue(1)}})}},
                    true},
        HeadersCase{"nested_table_type_differs",
                    {{"t", FieldValue(FieldTable{{"k", FieldValue(int32_t{1})}})}},
                    FieldTable{{"t", FieldValue(FieldTable{{"k", FieldValue(int64_t{1})}})}},
                    false},
        HeadersCase{"array_equal",
                    {{"a", FieldValue(FieldArray{S("x"), FieldValue(2)})}},
                    FieldTable{{"a", FieldValue(FieldArray{S("x"), FieldValue(2)})}},
                    true},
        HeadersCase{"array_order_matters",
                    {{"a", FieldValue(FieldArray{S("x"), S("y")})}},
                    FieldTable{{"a", FieldValue(FieldArray{S("y"), S("x")})}},
                    false}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(HeadersMatch, ModeParsing) {
  EXPECT_EQ(x_match_mode({}), XMatch::kAll);
  EXPECT_EQ(x_match_mode({{"x-match", S("any")}}), XMatch::kAny);
  EXPECT_EQ(x_match_mode({{"x-match", S("all-with-x")}}), XMatch::kAllWithX);
  EXPECT_EQ(x_match_mode({{"x-match", S("any-with-x")}}), XMatch::kAnyWithX);
  EXPECT_EQ(x_match_mode({{"x-match", S("ANY")}}), XMatch::kAll);
}

}  // namespace
}  // namespace pulse::broker
