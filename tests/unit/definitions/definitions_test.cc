#include <gtest/gtest.h>

#include <set>

#include "definitions/apply.h"
#include "definitions/json.h"
#include "definitions/snapshot.h"

namespace pulse::definitions {
namespace {

// The users, permissions and topic permissions of `d`, applied as an import applies them.
Status apply_auth(const Definitions& d, auth::AuthStore& store) {
  Definitions only_auth;
  only_auth.users = d.users;
  only_auth.permissions = d.permissions;
  only_auth.topic_permissions = d.topic_permissions;
  broker::Broker broker;
  return apply_definitions(only_auth, broker, store);
}

// Shaped like `rabbitmqctl export_definitions` from RabbitMQ 3.12.
constexpr std::string_view kExport = R"json({
  "rabbit_version": "3.12.1",
  "rabbitmq_version": "3.12.1",
  "product_name": "RabbitMQ",
  "product_version": "3.12.1",
  "users": [
    {"name": "guest", "password_hash": "kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR",
     "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ["administrator"],
     "limits": {}},
    {"name": "pulse-bob", "password_hash": "", "hashing_algorithm":
     "rabbit_password_hashing_sha256", "tags": "management,monitoring", "limits": {}}
  ],
  "vhosts": [
    {"name": "/", "description": "Default virtual host", "tags": [],
     "metadata": {"description": "Default virtual host", "tags": [],
                  "default_queue_type": "classic"}}
  ],
  "permissions": [
    {"user": "guest", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"},
    {"user": "pulse-bob", "vhost": "/",
     "configure": "^(queue/pulse-bob/.*|exchange/pulse-bob/.*)",
     "write": "^(queue/pulse-bob/.*|exchange/pulse-bob/.*)",
     "read": "^(queue/pulse-bob/.*|exchange/.*)"}
  ],
  "topic_permissions": [
    {"user": "pulse-bob", "vhost": "/", "exchange": "amq.topic", "write": "^{username}\\.",
     "read": ".*"}
  ],
  "parameters": [
    {"value": {"max-connections": 100}, "vhost": "/", "component": "vhost-limits",
     "name": "limits"}
  ],
  "global_parameters": [
    {"name": "cluster_name", "value": "rabbit@pulse-1"},
    {"name": "internal_cluster_id", "value": "rabbitmq-cluster-id-Xn4i8mzR3"}
  ],
  "policies": [
    {"vhost": "/", "name": "ttl", "pattern": "^queue/", "apply-to": "queues",
     "definition": {"message-ttl": 86400000, "max-length-bytes": 104857600}, "priority": 1}
  ],
  "queues": [
    {"name": "queue/pulse-bob/builds", "vhost": "/", "durable": true, "auto_delete": false,
     "arguments": {"x-queue-type": "classic", "x-max-length": 10000, "x-ratio": 0.5,
                   "x-flags": [true, null, "s"], "x-nested": {"a": {"b": 1}}}},
    {"name": "transient", "vhost": "/", "durable": false, "auto_delete": true, "arguments": {},
     "type": "classic"}
  ],
  "exchanges": [
    {"name": "exchange/pulse-bob/builds", "vhost": "/", "type": "topic", "durable": true,
     "auto_delete": false, "internal": false, "arguments": {"alternate-exchange": "ae"}}
  ],
  "bindings": [
    {"source": "exchange/pulse-bob/builds", "vhost": "/",
     "destination": "queue/pulse-bob/builds", "destination_type": "queue",
     "routing_key": "#.linux.#", "arguments": {}},
    {"source": "amq.topic", "vhost": "/", "destination": "exchange/pulse-bob/builds",
     "destination_type": "exchange", "routing_key": "", "arguments": {"x-match": "all"}}
  ]
})json";

TEST(Definitions, ParsesRealisticExport) {
  auto r = parse_definitions(kExport);
  ASSERT_TRUE(r.ok()) << r.error().text;
  const Definitions& d = *r;
  EXPECT_EQ(d.rabbit_version, "3.12.1");
  ASSERT_EQ(d.users.size(), 2u);
  EXPECT_EQ(d.users[0].tags, std::vector<std::string>{"administrator"});
  EXPECT_EQ(d.users[1].tags, (std::vector<std::string>{"management", "monitoring"}));
  EXPECT_EQ(d.users[1].hashing_algorithm, "rabbit_password_hashing_sha256");
  ASSERT_EQ(d.vhosts.size(), 1u);
  EXPECT_EQ(d.vhosts[0].description, "Default virtual host");
  EXPECT_EQ(d.vhosts[0].default_queue_type, "classic");
  ASSERT_EQ(d.permissions.size(), 2u);
  EXPECT_EQ(d.permissions[1].read, "^(queue/pulse-bob/.*|exchange/.*)");
  ASSERT_EQ(d.topic_permissions.size(), 1u);
  EXPECT_EQ(d.topic_permissions[0].write, "^{username}\\.");
  ASSERT_EQ(d.parameters.size(), 1u);
  EXPECT_EQ(d.parameters[0].component, "vhost-limits");
  EXPECT_EQ(d.parameters[0].value["max-connections"], 100);
  ASSERT_EQ(d.global_parameters.size(), 2u);
  EXPECT_EQ(d.global_parameters[0].value, "rabbit@pulse-1");
  ASSERT_EQ(d.policies.size(), 1u);
  EXPECT_EQ(d.policies[0].apply_to, "queues");
  EXPECT_EQ(d.policies[0].priority, 1);
  EXPECT_EQ(amqp::find(d.policies[0].definition, "message-ttl")->as_int(), 86400000);

  ASSERT_EQ(d.queues.size(), 2u);
  const amqp::FieldTable& args = d.queues[0].arguments;
  EXPECT_EQ(amqp::find(args, "x-queue-type")->tag(), 'S');
  const amqp::FieldValue* max_len = amqp::find(args, "x-max-length");
  EXPECT_EQ(max_len->tag(), 'l');
  EXPECT_EQ(max_len->as_int(), 10000);
  EXPECT_EQ(amqp::find(args, "x-ratio")->tag(), 'd');
  const amqp::FieldArray* flags = amqp::find(args, "x-flags")->as_array();
  ASSERT_NE(flags, nullptr);
  ASSERT_EQ(flags->size(), 3u);
  EXPECT_EQ((*flags)[0].tag(), 't');
  EXPECT_EQ((*flags)[1].tag(), 'V');
  const amqp::FieldTable* nested = amqp::find(args, "x-nested")->as_table();
  ASSERT_NE(nested, nullptr);
  EXPECT_EQ(amqp::find(*amqp::find(*nested, "a")->as_table(), "b")->as_int(), 1);
  EXPECT_FALSE(d.queues[1].durable);
  EXPECT_TRUE(d.queues[1].auto_delete);
  EXPECT_EQ(d.queues[1].type, "classic");

  ASSERT_EQ(d.exchanges.size(), 1u);
  EXPECT_EQ(d.exchanges[0].type, "topic");
  EXPECT_EQ(*amqp::find(d.exchanges[0].arguments, "alternate-exchange")->as_string(), "ae");
  ASSERT_EQ(d.bindings.size(), 2u);
  EXPECT_EQ(d.bindings[0].routing_key, "#.linux.#");
  EXPECT_EQ(d.bindings[1].destination_kind, DestinationKind::kExchange);
}

TEST(Definitions, ApplyAuth) {
  auto d = parse_definitions(kExport);
  ASSERT_TRUE(d.ok());
  auth::AuthStore store;
  ASSERT_TRUE(apply_auth(*d, store).ok());
  EXPECT_NE(store.authenticate("guest", "test12"), nullptr);
  const auth::User* bob = store.find_user("pulse-bob");
  ASSERT_NE(bob, nullptr);
  EXPECT_TRUE(bob->has_tag("monitoring"));
  EXPECT_EQ(store.authenticate("pulse-bob", ""), nullptr);  // empty hash: no password login
  EXPECT_TRUE(store.check("pulse-bob", "/", "queue/pulse-bob/q", auth::Access::kConfigure));
  EXPECT_FALSE(store.check("pulse-bob", "/", "queue/alice/q", auth::Access::kConfigure));
  EXPECT_TRUE(store.check("pulse-bob", "/", "exchange/alice/x", auth::Access::kRead));
  EXPECT_TRUE(
      store.check_topic("pulse-bob", "/", "amq.topic", "pulse-bob.x", auth::Access::kWrite));
  EXPECT_FALSE(store.check_topic("pulse-bob", "/", "amq.topic", "alice.x", auth::Access::kWrite));
}

TEST(Definitions, LegacyExportDefaultsToMd5AndCleartextPassword) {
  auto d = parse_definitions(R"({"rabbit_version": "3.5.7",
    "users": [{"name": "old", "password_hash": "ytUIm8s3AnKsXQjptplKFytfVxI=", "tags": ""},
              {"name": "plain", "password": "pw1", "tags": "administrator"}]})");
  ASSERT_TRUE(d.ok()) << d.error().text;
  EXPECT_EQ(d->users[0].hashing_algorithm, "rabbit_password_hashing_md5");
  EXPECT_TRUE(d->users[0].tags.empty());
  auth::AuthStore store;
  ASSERT_TRUE(apply_auth(*d, store).ok());
  EXPECT_NE(store.authenticate("old", "simon"), nullptr);
  EXPECT_NE(store.authenticate("plain", "pw1"), nullptr);
}

std::string error_of(std::string_view json) {
  auto r = parse_definitions(json);
  return r.ok() ? "(parsed)" : r.error().text;
}

// A number no double holds is nlohmann's out_of_range, not a parse_error: it must be refused
// like any other malformed document, not thrown out of pulsed (found by fuzz_definitions).
TEST(Definitions, AnOutOfRangeNumberIsRefusedAsInvalidJson) {
  EXPECT_NE(error_of(R"({"queues": 1e400})").find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of(R"({"users": [{"name": "u", "x": -1e999}]})").find("not valid JSON"),
            std::string::npos);
}

TEST(Definitions, ErrorsNameTheEntry) {
  EXPECT_NE(error_of("{not json").find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of("[]").find("top level must be a JSON object"), std::string::npos);
  EXPECT_NE(error_of(R"({"queues": {}})").find("'queues' must be a list"), std::string::npos);
  EXPECT_EQ(error_of(R"({"queues": [{"name": "q", "vhost": "/"},
                                    {"name": "q1", "vhost": "/", "durable": "yes"}]})"),
            "invalid definitions: queues[1] ('q1' in vhost '/'): 'durable' must be a boolean");
  EXPECT_EQ(error_of(R"({"users": [{"password_hash": ""}]})"),
            "invalid definitions: users[0]: 'name' is missing");
  EXPECT_EQ(error_of(R"({"users": [{"name": "u", "tags": [1]}]})"),
            "invalid definitions: users[0] ('u'): 'tags' must be a list of strings");
  EXPECT_NE(error_of(R"({"exchanges": [{"name": "x", "vhost": "/", "type": "topic",
                                        "arguments": [1]}]})")
                .find("exchanges[0] ('x' in vhost '/'): 'arguments' must be an object"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"queues": [{"name": "q", "vhost": "/",
                                     "arguments": {"x": 18446744073709551615}}]})")
                .find("does not fit"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"bindings": [{"source": "a", "vhost": "/", "destination": "b",
                                       "destination_type": "topic", "routing_key": ""}]})")
                .find("bindings[0]: 'destination_type' must be"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"permissions": ["x"]})").find("permissions[0]: must be an object"),
            std::string::npos);
}

TEST(Definitions, DeepNestingRefused) {
  std::string deep = R"({"queues": [{"name": "q", "vhost": "/", "arguments": {"a": )";
  // Deeper than any field table the codec accepts.
  const int depth = amqp::kMaxFieldDepth + 10;
  for (int i = 0; i < depth; ++i) deep += "[";
  for (int i = 0; i < depth; ++i) deep += "]";
  deep += "}}]}";
  EXPECT_NE(error_of(deep).find("nesting too deep"), std::string::npos);
}

TEST(Definitions, ApplyAuthErrorsNameTheEntry) {
  Definitions d;
  d.users.push_back({.name = "u",
                     .password_hash = "",
                     .hashing_algorithm = "rabbit_password_hashing_sha256",
                     .password = std::nullopt,
                     .tags = {}});
  d.permissions.push_back(
      {.user = "u", .vhost = "/", .configure = "(", .write = ".*", .read = ".*"});
  auth::AuthStore store;
  Status s = apply_auth(d, store);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().text.rfind("permissions[0] (user 'u' in vhost '/'): ", 0), 0u)
      << s.error().text;
  d.permissions.clear();
  d.topic_permissions.push_back(
      {.user = "nobody", .vhost = "/", .exchange = "amq.topic", .write = ".*", .read = ".*"});
  s = apply_auth(d, store);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().text.find("no user 'nobody'"), std::string::npos);
  d.users[0].hashing_algorithm = "rabbit_password_hashing_bcrypt";
  EXPECT_NE(apply_auth(d, store).error().text.find("users[0] ('u')"), std::string::npos);
}

TEST(Definitions, LoadsIntegrationFixture) {
  auto d = load_definitions_file(PULSE_INTEGRATION_FIXTURES "/definitions.json");
  ASSERT_TRUE(d.ok()) << d.error().text;
  auth::AuthStore store;
  ASSERT_TRUE(apply_auth(*d, store).ok());
  EXPECT_NE(store.authenticate("guest", "guest"), nullptr);
  EXPECT_TRUE(store.has_vhost_access("guest", "/"));
  EXPECT_FALSE(load_definitions_file("/nonexistent/definitions.json").ok());
}

std::set<std::string> keys(const nlohmann::json& j) {
  std::set<std::string> out;
  for (const auto& [k, v] : j.items()) out.insert(k);
  return out;
}

TEST(Definitions, ExportEntriesCarryRabbitMQsFieldsAndParseBack) {
  auto d = parse_definitions(kExport);
  ASSERT_TRUE(d.ok());
  using S = std::set<std::string>;
  EXPECT_EQ(keys(to_json(d->users[0])),
            (S{"name", "password_hash", "hashing_algorithm", "tags", "limits"}));
  EXPECT_EQ(keys(to_json(d->vhosts[0])), (S{"name", "limits", "metadata"}));
  EXPECT_EQ(keys(to_json(d->permissions[0])), (S{"user", "vhost", "configure", "write", "read"}));
  EXPECT_EQ(keys(to_json(d->policies[0])),
            (S{"vhost", "name", "pattern", "apply-to", "definition", "priority"}));
  EXPECT_EQ(keys(to_json(d->queues[0])),
            (S{"name", "vhost", "durable", "auto_delete", "arguments"}));
  EXPECT_EQ(keys(to_json(d->exchanges[0])),
            (S{"name", "vhost", "type", "durable", "auto_delete", "internal", "arguments"}));
  EXPECT_EQ(keys(to_json(d->bindings[1])),
            (S{"source", "vhost", "destination", "destination_type", "routing_key", "arguments"}));
  EXPECT_EQ(to_json(d->bindings[1])["destination_type"], "exchange");

  nlohmann::json out = {
      {"users", nlohmann::json::array()},     {"vhosts", nlohmann::json::array()},
      {"policies", nlohmann::json::array()},  {"queues", nlohmann::json::array()},
      {"exchanges", nlohmann::json::array()}, {"bindings", nlohmann::json::array()}};
  for (const auto& u : d->users) out["users"].push_back(to_json(u));
  for (const auto& v : d->vhosts) out["vhosts"].push_back(to_json(v));
  for (const auto& p : d->policies) out["policies"].push_back(to_json(p));
  for (const auto& q : d->queues) out["queues"].push_back(to_json(q));
  for (const auto& x : d->exchanges) out["exchanges"].push_back(to_json(x));
  for (const auto& b : d->bindings) out["bindings"].push_back(to_json(b));
  auto again = parse_definitions(out.dump());
  ASSERT_TRUE(again.ok()) << again.error().text;
  ASSERT_EQ(again->bindings.size(), d->bindings.size());
  EXPECT_EQ(again->bindings[1].destination_kind, DestinationKind::kExchange);
  EXPECT_EQ(again->exchanges[0].arguments, d->exchanges[0].arguments);
  EXPECT_EQ(again->policies[0].definition, d->policies[0].definition);
  EXPECT_EQ(again->users[0].password_hash, d->users[0].password_hash);
  EXPECT_EQ(again->vhosts[0].description, d->vhosts[0].description);
}

Definitions refused_entries() {
  Definitions d;
  d.vhosts.push_back({.name = "/"});
  d.policies.push_back({.vhost = "/",
                        .name = "p",
                        .pattern = ".*",
                        .apply_to = "queues",
                        .definition = {{"max-length", amqp::FieldValue(std::string("ten"))}},
                        .priority = 0});
  d.queues.push_back({.vhost = "/", .name = "q"});
  d.bindings.push_back({.vhost = "/", .source = "nope", .destination = "q"});
  return d;
}

TEST(DefinitionsApply, ImportStopsAtTheFirstRefusedEntryNamingIt) {
  broker::Broker broker;
  auth::AuthStore auth;
  Status s = apply_definitions(refused_entries(), broker, auth);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().text, "policy 'p' in vhost '/': <<\"ten\">> is not a valid maximum length");
  EXPECT_EQ(broker.find_vhost("/")->find_queue("q"), nullptr);  // stopped before the queues
}

TEST(DefinitionsApply, RecoverySkipsRefusedEntriesAndCountsTheRest) {
  broker::Broker broker;
  auth::AuthStore auth;
  auto defs = std::make_shared<const Definitions>(refused_entries());
  DefinitionsApply apply(defs, broker, auth,
                         ApplyOptions{.on_refused = ApplyOptions::OnRefused::kSkip,
                                      .create_missing_vhosts = true,
                                      .server_named_queues = true,
                                      .queue_declared = nullptr});
  ASSERT_TRUE(apply.run().ok());
  EXPECT_EQ(apply.skipped(), 2u);  // the policy and the binding from a missing exchange
  EXPECT_EQ(apply.applied(Section::kVhosts), 1u);
  EXPECT_EQ(apply.applied(Section::kPolicies), 0u);
  EXPECT_EQ(apply.applied(Section::kQueues), 1u);
  EXPECT_EQ(apply.applied(Section::kBindings), 0u);
  EXPECT_NE(broker.find_vhost("/")->find_queue("q"), nullptr);
}

TEST(DefinitionsApply, StepsStopBetweenEntriesAndResume) {
  broker::Broker broker;
  auth::AuthStore auth;
  Definitions d;
  d.vhosts.push_back({.name = "/"});
  for (int i = 0; i < 5; ++i) d.queues.push_back({.vhost = "/", .name = "q" + std::to_string(i)});
  DefinitionsApply apply(std::make_shared<const Definitions>(d), broker, auth);
  int steps = 0;
  for (;;) {
    auto more = apply.step([] { return false; });  // one entry per step
    ASSERT_TRUE(more.ok());
    ++steps;
    if (!*more) break;
  }
  EXPECT_EQ(steps, 7);  // 1 vhost + 5 queues, and the step that finds nothing left
  EXPECT_EQ(broker.find_vhost("/")->queues().size(), 5u);
}

// Vhost limits are the "vhost-limits" parameter named "limits" (replaced as a whole), user
// limits the user's "limits" object (merged); both come back out of the live objects.
TEST(DefinitionsApply, LimitsApplyMergeAndExport) {
  broker::Broker broker;
  auth::AuthStore auth;
  auto d = parse_definitions(R"json({
    "vhosts": [{"name": "v"}],
    "users": [{"name": "u", "password_hash": "", "tags": [],
               "limits": {"max-connections": 4, "max-channels": 9}}],
    "parameters": [
      {"value": {"max-queues": 3, "max-connections": 7}, "vhost": "v",
       "component": "vhost-limits", "name": "limits"},
      {"value": {"uri": "amqp://"}, "vhost": "v", "component": "federation-upstream",
       "name": "up"}]})json");
  ASSERT_TRUE(d.ok()) << d.error().text;
  ASSERT_TRUE(apply_definitions(*d, broker, auth).ok());
  const broker::VHost& vh = *broker.find_vhost("v");
  // (nlohmann::json keeps object keys sorted, so that is the order imported pairs come in.)
  EXPECT_EQ(*vh.limits(), (broker::LimitList{{"max-connections", 7}, {"max-queues", 3}}));
  const auth::User& u = *auth.find_user("u");
  EXPECT_EQ(u.limits,
            (std::map<std::string, int64_t>{{"max-channels", 9}, {"max-connections", 4}}));
  EXPECT_EQ(to_json(snapshot(u))["limits"],
            nlohmann::json::parse(R"({"max-channels": 9, "max-connections": 4})"));
  auto p = limits_snapshot(vh);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(to_json(*p), nlohmann::json::parse(R"({"value": {"max-queues": 3,
      "max-connections": 7}, "vhost": "v", "component": "vhost-limits", "name": "limits"})"));

  auto again = parse_definitions(R"json({
    "users": [{"name": "u", "password_hash": "", "tags": [], "limits": {"max-channels": 1}}],
    "parameters": [{"value": {"max-queues": 1}, "vhost": "v", "component": "vhost-limits",
                    "name": "limits"}]})json");
  ASSERT_TRUE(apply_definitions(*again, broker, auth).ok());
  EXPECT_EQ(*vh.limits(), (broker::LimitList{{"max-queues", 1}}));
  EXPECT_EQ(auth.find_user("u")->limits,
            (std::map<std::string, int64_t>{{"max-channels", 1}, {"max-connections", 4}}));
}

TEST(DefinitionsApply, InvalidLimitsAndQueuesPastMaxQueuesStopAnImport) {
  broker::Broker broker;
  auth::AuthStore auth;
  auto bad_param = parse_definitions(R"json({"vhosts": [{"name": "v"}], "parameters": [
    {"value": {"max-queues": "x"}, "vhost": "v", "component": "vhost-limits",
     "name": "limits"}]})json");
  Status s = apply_definitions(*bad_param, broker, auth);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().text,
            "parameters[0] (vhost-limits 'limits' in vhost 'v'): Validation failed\n\n"
            "max-queues should be a number, actually was <<\"x\">>\n");
  auto bad_user = parse_definitions(R"json({"users": [
    {"name": "w", "password_hash": "", "tags": [], "limits": {"max-queues": 1}}]})json");
  s = apply_definitions(*bad_user, broker, auth);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().text,
            "users[0] ('w'): Unrecognised terms [{<<\"max-queues\">>,1}] in user-limits");
  EXPECT_EQ(auth.find_user("w"), nullptr);

  broker::VHost& vh = *broker.find_vhost("v");
  vh.set_limit("max-queues", 2);
  Definitions q;
  for (const char* name : {"a", "b", "c"}) q.queues.push_back({.vhost = "v", .name = name});
  s = apply_definitions(q, broker, auth);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().text,
            "Adding 3 queue(s) to virtual host \"v\" would exceed the limit of 2 queue(s).\n\n"
            "This virtual host currently has 0 queue(s) defined.\n\nImport aborted!");
  EXPECT_TRUE(vh.queues().empty());
  vh.set_limit("max-queues", 3);
  EXPECT_TRUE(apply_definitions(q, broker, auth).ok());
  EXPECT_TRUE(apply_definitions(q, broker, auth).ok());  // existing queues are not new
  // Recovery does not check: what was stored comes back.
  broker::Broker fresh;
  fresh.add_vhost("v").set_limit("max-queues", 0);
  EXPECT_TRUE(apply_definitions(q, fresh, auth,
                                ApplyOptions{.on_refused = ApplyOptions::OnRefused::kSkip,
                                             .create_missing_vhosts = true,
                                             .server_named_queues = false,
                                             .queue_declared = nullptr})
                  .ok());
  EXPECT_EQ(fresh.find_vhost("v")->queues().size(), 3u);
}

}  // namespace
}  // namespace pulse::definitions
