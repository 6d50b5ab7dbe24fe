// Policy validation (RabbitMQ 3.10's rules and texts), matching (pattern, apply-to, priority,
// queue-type applicability) and how a policy combines with x-arguments.
#include <gtest/gtest.h>

#include "broker/policy.h"
#include "broker_fixture.h"

namespace pulse::broker::testing {
namespace {

PolicySpec spec(const std::string& name, const std::string& pattern, FieldTable def,
                int64_t priority = 0, const std::string& apply_to = "all") {
  return PolicySpec{name, pattern, apply_to, priority, std::move(def)};
}

// The error text of an invalid spec, or "" when it is valid.
std::string refusal(PolicySpec s) {
  auto p = Policy::create("/", std::move(s));
  return p ? "" : p.error().text;
}

std::string def_refusal(FieldTable def) {
  return refusal(spec("p", ".*", std::move(def)));
}

// --- validation -------------------------------------------------------------------------

TEST(PolicyValidation, AcceptsRabbitMqKeys) {
  EXPECT_EQ(def_refusal({{"max-length", int64_t{10}},
                         {"max-length-bytes", int64_t{0}},
                         {"message-ttl", int64_t{0}},
                         {"expires", int64_t{1}},
                         {"overflow", "reject-publish-dlx"},
                         {"dead-letter-exchange", "dlx"},
                         {"dead-letter-routing-key", "rk"},
                         {"delivery-limit", int64_t{3}},
                         {"queue-mode", "lazy"},
                         {"queue-version", int64_t{2}},
                         {"alternate-exchange", "ae"},
                         {"max-age", "7D"},
                         {"ha-mode", "exactly"},
                         {"ha-params", int64_t{2}},
                         {"ha-sync-mode", "automatic"},
                         {"queue-master-locator", "min-masters"}}),
            "");
}

TEST(PolicyValidation, BadValuesUseRabbitMqTexts) {
  EXPECT_EQ(def_refusal({{"max-length", "abc"}}), "<<\"abc\">> is not a valid maximum length");
  EXPECT_EQ(def_refusal({{"max-length", 1.5}}), "1.5 is not a valid maximum length");
  EXPECT_EQ(def_refusal({{"max-length-bytes", int64_t{-1}}}),
            "-1 is not a valid maximum length in bytes");
  EXPECT_EQ(def_refusal({{"message-ttl", int64_t{-5}}}), "-5 is not a valid message TTL");
  EXPECT_EQ(def_refusal({{"expires", int64_t{0}}}), "0 is not a valid queue expiry");
  EXPECT_EQ(def_refusal({{"overflow", "drop-tail"}}),
            "<<\"drop-tail\">> is not a valid overflow value");
  EXPECT_EQ(def_refusal({{"dead-letter-exchange", int64_t{1}}}),
            "1 is not a valid dead letter exchange name");
  EXPECT_EQ(def_refusal({{"alternate-exchange", true}}),
            "true is not a valid alternate exchange name");
  EXPECT_EQ(def_refusal({{"queue-mode", FieldValue()}}), "null is not a valid queue-mode value");
  EXPECT_EQ(def_refusal({{"delivery-limit", FieldArray{int64_t{1}, "x"}}}),
            "[1,<<\"x\">>] is not a valid delivery limit");
  EXPECT_EQ(def_refusal({{"message-ttl", 1000.0}}), "1.0e3 is not a valid message TTL");
  // The first invalid key in key order is reported.
  EXPECT_EQ(def_refusal({{"max-length", "x"}, {"expires", "y"}}),
            "<<\"y\">> is not a valid queue expiry");
}

TEST(PolicyValidation, UnknownKeysAndEmptyDefinition) {
  EXPECT_EQ(def_refusal(FieldTable{}), "no policy provided");
  EXPECT_EQ(def_refusal({{"max-lenght", int64_t{1}}, {"foo", FieldTable{{"a", "b"}}}}),
            "[{<<\"foo\">>,#{<<\"a\">> => <<\"b\">>}},{<<\"max-lenght\">>,1}] are not "
            "recognised policy settings");
  // A bad value in a known key is reported before unknown keys.
  EXPECT_EQ(def_refusal({{"foo", int64_t{1}}, {"max-length", "x"}}),
            "<<\"x\">> is not a valid maximum length");
}

TEST(PolicyValidation, ClassicMirroringKeys) {
  EXPECT_EQ(def_refusal({{"ha-params", int64_t{2}}}),
            "ha-mode must be specified to specify ha-params, ha-sync-mode or "
            "ha-promote-on-shutdown");
  EXPECT_EQ(def_refusal({{"ha-mode", "exactly"}}),
            "ha-mode=\"exactly\" takes an integer, none given");
  EXPECT_EQ(def_refusal({{"ha-mode", "all"}, {"ha-params", int64_t{1}}}),
            "ha-mode=\"all\" does not take parameters");
  EXPECT_EQ(def_refusal({{"ha-mode", "nodes"}, {"ha-params", FieldArray{}}}),
            "ha-mode=\"nodes\" list must be non-empty");
  EXPECT_EQ(def_refusal({{"ha-mode", "some"}}), "<<\"some\">> is not a valid ha-mode value");
  EXPECT_EQ(def_refusal({{"queue-master-locator", "nearest"}}),
            "<<\"nearest\">> invalid queue-master-locator value");
}

TEST(PolicyValidation, PatternErrorsAsErlangRe) {
  // Texts, offsets and line breaks as RabbitMQ prints Erlang's re:compile errors (~p breaks
  // a tuple that would reach column 79, aligning it after the brace).
  auto pattern_error = [](const std::string& pattern) {
    return refusal(spec("p", pattern, {{"max-length", int64_t{1}}}));
  };
  const std::string prefix = "pattern should be regular expression but is invalid: ";
  const std::string wrap = ",\n" + std::string(prefix.size() + 1, ' ');
  EXPECT_EQ(pattern_error("(abc"), prefix + "{\"missing )\",4}");
  EXPECT_EQ(pattern_error("abc)"), prefix + "{\"unmatched parentheses\"" + wrap + "3}");
  EXPECT_EQ(pattern_error("[abc"),
            prefix + "{\"missing terminating ] for character class\"" + wrap + "4}");
  EXPECT_EQ(pattern_error("*abc"), prefix + "{\"nothing to repeat\",0}");
  EXPECT_EQ(pattern_error("a**"), prefix + "{\"nothing to repeat\",2}");
  EXPECT_EQ(pattern_error("a{2,1}"),
            prefix + "{\"numbers out of order in {} quantifier\"" + wrap + "5}");
  EXPECT_EQ(pattern_error("abc\\"), prefix + "{\"\\\\ at end of pattern\"" + wrap + "4}");
  EXPECT_EQ(pattern_error("[z-a]"),
            prefix + "{\"range out of order in character class\"" + wrap + "3}");
  EXPECT_EQ(pattern_error("^amq\\."), "");
}

TEST(PolicyValidation, LongTermsBreakLikeErlang) {
  // Laid out as Erlang/OTP 25 prints it with ~p.
  EXPECT_EQ(def_refusal({{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", int64_t{1}},
                         {"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", int64_t{2}}}),
            "[{<<\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\">>,1},\n"
            " {<<\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\">>,2}] are not recognised "
            "policy settings");
}

TEST(PolicyValidation, EveryReasonInRabbitMqOrder) {
  Error e = Policy::create("/", spec("p", "(", {}, 0, "bindings")).error();
  EXPECT_EQ(e.text,
            "no policy provided\n"
            "apply-to 'bindings' unrecognised; should be 'queues', 'exchanges' or 'all'\n"
            "pattern should be regular expression but is invalid: {\"missing )\",1}");
  EXPECT_EQ(validation_failed_text(Error{0, "no policy provided"}),
            "Validation failed\n\nno policy provided\n");
}

TEST(PolicyValidation, DefinitionIsSortedByKey) {
  auto p = Policy::create(
      "/", spec("p", "^q", {{"overflow", "reject-publish"}, {"max-length", int64_t{3}}}));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)->definition().front().first, "max-length");
  EXPECT_EQ((*p)->get("overflow")->as_string() != nullptr, true);
}

// --- selection ----------------------------------------------------------------------------

class PolicySelection : public ::testing::Test {
 protected:
  void add(PolicySpec s) {
    auto p = Policy::create("/", std::move(s));
    ASSERT_TRUE(p.ok()) << p.error().text;
    policies[(*p)->name()] = *p;
  }
  std::string queue_policy(const std::string& q, bool quorum = false) {
    auto p = select_queue_policy(policies, q, quorum);
    return p ? p->name() : "<none>";
  }
  std::string exchange_policy(const std::string& x) {
    auto p = select_exchange_policy(policies, x);
    return p ? p->name() : "<none>";
  }
  PolicyMap policies;
};

TEST_F(PolicySelection, PatternIsAnUnanchoredSearch) {
  add(spec("mid", "ord", {{"max-length", int64_t{1}}}));
  add(spec("anchored", "^audit\\.", {{"max-length", int64_t{1}}}));
  EXPECT_EQ(queue_policy("new-orders"), "mid");
  EXPECT_EQ(queue_policy("audit.log"), "anchored");
  EXPECT_EQ(queue_policy("x.audit.log"), "<none>");
}

TEST_F(PolicySelection, HighestPriorityWinsAndTiesGoToTheFirstName) {
  add(spec("low", "^q", {{"max-length", int64_t{1}}}, 1));
  add(spec("high", "^q\\.", {{"max-length", int64_t{2}}}, 5));
  add(spec("negative", ".*", {{"max-length", int64_t{3}}}, -1));
  EXPECT_EQ(queue_policy("q.a"), "high");
  EXPECT_EQ(queue_policy("qa"), "low");
  EXPECT_EQ(queue_policy("other"), "negative");
  add(spec("a-tie", "^q\\.", {{"max-length", int64_t{4}}}, 5));
  EXPECT_EQ(queue_policy("q.a"), "a-tie");
}

TEST_F(PolicySelection, ApplyToSeparatesQueuesAndExchanges) {
  add(spec("qs", "^x", {{"max-length", int64_t{1}}}, 2, "queues"));
  add(spec("xs", "^x", {{"alternate-exchange", "ae"}}, 1, "exchanges"));
  add(spec("both", "^x", {{"message-ttl", int64_t{1}}}, 0, "all"));
  EXPECT_EQ(queue_policy("x1"), "qs");
  EXPECT_EQ(exchange_policy("x1"), "xs");
  policies.erase("qs");
  policies.erase("xs");
  EXPECT_EQ(queue_policy("x1"), "both");
  EXPECT_EQ(exchange_policy("x1"), "both");
}

TEST_F(PolicySelection, KeysAQueueTypeRefusesSkipThePolicy) {
  add(spec("limit", "^q", {{"delivery-limit", int64_t{3}}}, 9));
  add(spec("lazy", "^q", {{"queue-mode", "lazy"}}, 5));
  add(spec("plain", "^q", {{"max-length", int64_t{1}}}, 0));
  EXPECT_EQ(queue_policy("q", /*quorum=*/false), "lazy");  // delivery-limit: not classic
  EXPECT_EQ(queue_policy("q", /*quorum=*/true), "limit");
  policies.erase("limit");
  EXPECT_EQ(queue_policy("q", /*quorum=*/true), "plain");  // queue-mode: not quorum
  // Exchanges take any policy.
  EXPECT_EQ(exchange_policy("q"), "lazy");
}

// --- combination with x-arguments -----------------------------------------------------------

QueueArgs combine(const FieldTable& args, FieldTable def) {
  auto declared = parse_queue_args(args, "queue 'q' in vhost '/'");
  EXPECT_TRUE(declared.ok());
  auto p = Policy::create("/", spec("p", ".*", std::move(def)));
  EXPECT_TRUE(p.ok()) << p.error().text;
  return effective_queue_args(*declared, args, p->get());
}

TEST(PolicyCombination, ClassicNumericLimitsTakeTheSmaller) {
  FieldTable args{{"x-max-length", int32_t{10}},
                  {"x-max-length-bytes", int32_t{100}},
                  {"x-message-ttl", int32_t{5000}},
                  {"x-expires", int32_t{60000}}};
  QueueArgs a = combine(args, {{"max-length", int64_t{3}},
                               {"max-length-bytes", int64_t{1000}},
                               {"message-ttl", int64_t{9000}},
                               {"expires", int64_t{1000}}});
  EXPECT_EQ(a.max_length, 3);
  EXPECT_EQ(a.max_length_bytes, 100);
  EXPECT_EQ(a.message_ttl, 5000);
  EXPECT_EQ(a.expires, 1000);
  QueueArgs only_policy = combine({}, {{"max-length", int64_t{7}}});
  EXPECT_EQ(only_policy.max_length, 7);
}

TEST(PolicyCombination, ClassicArgumentWinsForDeadLetteringAndOverflow) {
  QueueArgs a = combine({{"x-dead-letter-exchange", "arg-dlx"}, {"x-overflow", "drop-head"}},
                        {{"dead-letter-exchange", "pol-dlx"},
                         {"dead-letter-routing-key", "pol-rk"},
                         {"overflow", "reject-publish"}});
  EXPECT_EQ(a.dead_letter_exchange, "arg-dlx");
  EXPECT_EQ(a.dead_letter_routing_key, "pol-rk");  // resolved key by key
  EXPECT_EQ(a.overflow, Overflow::kDropHead);
  EXPECT_EQ(combine({}, {{"overflow", "reject-publish"}}).overflow, Overflow::kRejectPublish);
}

TEST(PolicyCombination, QuorumPolicyWinsForOverflowAndExpires) {
  FieldTable args{{"x-queue-type", "quorum"},
                  {"x-overflow", "reject-publish"},
                  {"x-expires", int32_t{1000}},
                  {"x-delivery-limit", int32_t{5}},
                  {"x-dead-letter-exchange", "arg-dlx"}};
  QueueArgs a = combine(args, {{"overflow", "drop-head"},
                               {"expires", int64_t{90000}},
                               {"delivery-limit", int64_t{2}},
                               {"dead-letter-exchange", "pol-dlx"}});
  EXPECT_EQ(a.overflow, Overflow::kDropHead);
  EXPECT_EQ(a.expires, 90000);
  EXPECT_EQ(a.delivery_limit, 2);
  EXPECT_EQ(a.dead_letter_exchange, "arg-dlx");
  // reject-publish-dlx is not a quorum queue strategy: RabbitMQ falls back to drop-head.
  EXPECT_EQ(combine({{"x-queue-type", "quorum"}}, {{"overflow", "reject-publish-dlx"}}).overflow,
            Overflow::kDropHead);
}

TEST(PolicyCombination, AlternateExchangeArgumentWins) {
  auto p = Policy::create("/", spec("p", ".*", {{"alternate-exchange", "pol-ae"}}));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(effective_alternate_exchange({}, p->get()), "pol-ae");
  EXPECT_EQ(effective_alternate_exchange({{"alternate-exchange", "arg-ae"}}, p->get()), "arg-ae");
  // A non-string argument still shadows the policy (and routes nowhere).
  EXPECT_EQ(effective_alternate_exchange({{"alternate-exchange", int32_t{1}}}, p->get()),
            std::nullopt);
  EXPECT_EQ(effective_alternate_exchange({}, nullptr), std::nullopt);
}

}  // namespace
}  // namespace pulse::broker::testing
