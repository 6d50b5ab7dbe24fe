// The "pulse" section of a definitions export: what an export writes reads back as the same
// records, nothing is written without state, and damage is refused naming the entry.
#include <gtest/gtest.h>

#include "pulse/api/definitions_section.h"

namespace pulse::api {
namespace {

using nlohmann::json;

accounts::AccountState sample() {
  using accounts::Clock;
  const auto t = Clock::from_time_t(1'800'000'000);
  accounts::AccountState s;
  s.owners.push_back({"a@example.com", "A", true, t, true});
  s.users.push_back({"ann", {"a@example.com"}, t, "ci"});
  accounts::NamespaceClaim c;
  c.ns = "tc";
  c.expires = c.created = c.last_rotation = t;
  c.users = {"tc-1", "tc-2"};
  c.password = "secret";
  s.claims.push_back(c);
  return s;
}

TEST(PulseDefinitionsSection, NothingWithoutState) {
  EXPECT_FALSE(export_section({}, {}).has_value());
  GuardianOverrides g;
  g.unbounded.insert({"/", "queue/a/q"});
  EXPECT_TRUE(export_section({}, g).has_value());
}

TEST(PulseDefinitionsSection, ExportReadsBackAsTheSameRecords) {
  GuardianOverrides g;
  g.warn_queue_size = 3;
  g.owners["ann"].delete_queue_size = 9;
  g.unbounded.insert({"/", "queue/ann/keep"});
  auto j = export_section(sample(), g);
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ((*j)["version"], 1);
  EXPECT_EQ((*j)["guardian"]["settings"],
            json::parse(R"({"warn_queue_size": 3, "owners": {"ann": {"delete_queue_size": 9}}})"));
  auto back = parse_section(json::parse(j->dump()));
  ASSERT_TRUE(back.ok()) << back.error().text;
  std::vector<accounts::Record> expected = {accounts::to_record(sample().owners[0]),
                                            accounts::to_record(sample().users[0]),
                                            accounts::to_record(sample().claims[0])};
  ASSERT_EQ(back->accounts.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(back->accounts[i].key, expected[i].key);
    EXPECT_EQ(json::parse(back->accounts[i].json), json::parse(expected[i].json));
  }
  EXPECT_EQ(back->guardian.warn_queue_size, 3u);
  EXPECT_EQ(back->guardian.owners.at("ann").delete_queue_size, 9u);
  EXPECT_EQ(back->guardian.unbounded, g.unbounded);
}

std::string refusal(const std::function<void(json&)>& damage) {
  json j = *export_section(sample(), {});
  damage(j);
  auto r = parse_section(j);
  return r.ok() ? "accepted" : r.error().text;
}

TEST(PulseDefinitionsSection, DamageIsRefusedNamingTheEntry) {
  EXPECT_EQ(refusal([](json& j) { j["owners"][0]["admin"] = "yes"; }),
            "pulse.owners[0] ('a@example.com'): 'admin' must be a boolean");
  EXPECT_EQ(refusal([](json& j) { j["users"][0].erase("name"); }),
            "pulse.users[0]: 'name' must be a string");
  EXPECT_EQ(refusal([](json& j) { j["claims"][0]["users"] = {"x"}; }),
            "pulse.claims[0] ('tc'): 'users' must be a list of two names");
  EXPECT_EQ(refusal([](json& j) { j["owners"] = json::object(); }), "pulse.owners must be a list");
  EXPECT_EQ(refusal([](json& j) { j["version"] = 2; }),
            "pulse.version 2 is not supported (this pulsed reads version 1)");
  EXPECT_EQ(refusal([](json& j) { j.erase("version"); }), "pulse.version must be a number (1)");
  EXPECT_EQ(refusal([](json& j) { j["other"] = 1; }), "pulse: unknown field 'other'");
  EXPECT_EQ(refusal([](json& j) { j["guardian"]["settings"]["interval"] = -1; }),
            "pulse.guardian.settings: 'interval' must be a whole number");
  EXPECT_EQ(refusal([](json& j) { j["guardian"]["settings"]["owners"]["x"]["warn"] = 1; }),
            "pulse.guardian.settings: unknown field 'owners.x.warn'");
  EXPECT_EQ(refusal([](json& j) {
              j["guardian"]["unbounded"] = {{{"vhost", "/"}}};
            }),
            "pulse.guardian.unbounded[0]: must be {\"vhost\": string, \"queue\": string}");
  EXPECT_EQ(refusal([](json& j) { j = json::array(); }), "pulse must be an object");
}

}  // namespace
}  // namespace pulse::api
