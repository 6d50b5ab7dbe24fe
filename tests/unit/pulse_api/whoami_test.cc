// pulse-guardian's sign-in reads RabbitMQ's whoami answer (src/pulse/api_host/whoami_auth.h).
#include <gtest/gtest.h>

#include "pulse/api_host/whoami_auth.h"

namespace pulse::api {
namespace {

TEST(WhoamiAnswer, TagsAsAListOrACommaSeparatedString) {
  auto p = principal_from_whoami(R"({"name":"ops","tags":["administrator","monitoring"]})");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->name, "ops");
  EXPECT_EQ(p->tags, (std::vector<std::string>{"administrator", "monitoring"}));
  EXPECT_TRUE(p->has_tag("administrator"));

  // RabbitMQ before 3.9.
  p = principal_from_whoami(R"({"name":"a@b.org","tags":"management, policymaker"})");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->tags, (std::vector<std::string>{"management", "policymaker"}));

  p = principal_from_whoami(R"({"name":"plain"})");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->tags.empty());
}

TEST(WhoamiAnswer, AnythingElseIsNoPrincipal) {
  for (const char* body : {"", "not json", "[]", R"({"tags":[]})", R"({"name":5})"})
    EXPECT_FALSE(principal_from_whoami(body)) << body;
}

}  // namespace
}  // namespace pulse::api
