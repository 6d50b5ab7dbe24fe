// What every listing and single object shares (paging, sorting, columns), the health checks
// that need no listener, and the resources of features pulsed does not have
// (test_http_resources.py, test_http_defaults.py, test_http_body_errors.py).
#include "api_fixture.h"

namespace pulse::http::testing {
namespace {

class HttpListsTest : public ApiTest {
 protected:
  void queues(std::initializer_list<const char*> names) {
    for (const char* n : names) ASSERT_EQ(call("PUT", on_root("queues", n), "{}").status, 201u);
  }
};

TEST_F(HttpListsTest, SortColumnsAndPages) {
  queues({"lp-b", "lp-a", "lp-c"});
  Reply sorted = call("GET", "/api/queues/%2F?columns=name&sort=name&sort_reverse=true");
  EXPECT_EQ(sorted.json, (json{{{"name", "lp-c"}}, {{"name", "lp-b"}}, {{"name", "lp-a"}}}));
  Reply page = call("GET", "/api/queues/%2F?page=1&page_size=2&name=lp&columns=name,vhost");
  EXPECT_EQ(page.status, 200u);
  EXPECT_EQ(
      page.json,
      (json{{"filtered_count", 3},
            {"item_count", 2},
            {"items", {{{"name", "lp-a"}, {"vhost", "/"}}, {{"name", "lp-b"}, {"vhost", "/"}}}},
            {"page", 1},
            {"page_count", 2},
            {"page_size", 2},
            {"total_count", 3}}));
  Reply regex = call("GET", "/api/queues?page=1&use_regex=true&name=%5Elp-%5Bab%5D%24");
  EXPECT_EQ(regex.json["filtered_count"], 2);
}

TEST_F(HttpListsTest, PaginationErrors) {
  Reply r = call("GET", "/api/queues?page=0");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.json, error_body("invalid_pagination_parameters",
                               "Invalid pagination parameters: page number 0, page size "
                               "undefined"));
  EXPECT_EQ(call("GET", "/api/queues?page=0&page_size=10").json["reason"],
            "Invalid pagination parameters: page number 0, page size 10");
  EXPECT_EQ(call("GET", "/api/queues?page=1&page_size=600").json["error"],
            "invalid_pagination_parameters");
  EXPECT_EQ(call("GET", "/api/queues?page=x").json,
            bad_request_body("Pagination parameters are invalid"));
  queues({"one"});
  Reply past = call("GET", "/api/queues/%2F?page=9&page_size=2");
  EXPECT_EQ(past.status, 400u);
  EXPECT_EQ(past.json["error"], "page_out_of_range");
}

TEST_F(HttpListsTest, OnlySomeListsArePaged) {
  EXPECT_TRUE(call("GET", "/api/exchanges?page=1&page_size=5").json.contains("items"));
  EXPECT_TRUE(call("GET", "/api/vhosts?page=1&page_size=5").json.contains("items"));
  for (const char* path : {"/api/users", "/api/permissions", "/api/policies", "/api/bindings",
                           "/api/exchanges/%2F/amq.direct/bindings/source"}) {
    Reply r = call("GET", std::string(path) + "?page=1&page_size=5");
    EXPECT_EQ(r.status, 200u) << path;
    EXPECT_TRUE(r.json.is_array()) << path;
  }
}

TEST_F(HttpListsTest, ColumnsApplyToSingleObjects) {
  ASSERT_EQ(call("PUT", on_root("queues", "col"), R"({"durable":true})").status, 201u);
  EXPECT_EQ(call("GET", on_root("queues", "col?columns=name,durable")).json,
            (json{{"name", "col"}, {"durable", true}}));
  EXPECT_EQ(call("GET", on_root("exchanges", "amq.direct?columns=name,type")).json,
            (json{{"name", "amq.direct"}, {"type", "direct"}}));
  EXPECT_EQ(call("GET", "/api/users/guest?columns=name").json, (json{{"name", "guest"}}));
  EXPECT_EQ(call("GET", "/api/whoami?columns=name").json, (json{{"name", "guest"}}));
}

TEST_F(HttpListsTest, QueueFormsWithoutStats) {
  queues({"ds"});
  ASSERT_EQ(
      call("POST", on_root("exchanges", "amq.default/publish"),
           R"({"routing_key":"ds","payload":"m","payload_encoding":"string","properties":{}})")
          .json,
      (json{{"routed", true}}));
  json one = call("GET", on_root("queues", "ds?disable_stats=true")).json;
  EXPECT_EQ(one, (json{{"name", "ds"},
                       {"vhost", "/"},
                       {"durable", false},
                       {"auto_delete", false},
                       {"exclusive", false},
                       {"arguments", json::object()},
                       {"type", "classic"},
                       {"node", "rabbit@localhost"},
                       {"state", "live"}}));
  json totals = call("GET", "/api/queues/%2F?disable_stats=true&enable_queue_totals=true").json;
  ASSERT_EQ(totals.size(), 1u);
  EXPECT_EQ(totals[0]["state"], "running");
  EXPECT_EQ(totals[0]["messages"], 1);
  EXPECT_EQ(totals[0]["messages_ready"], 1);
  EXPECT_EQ(totals[0]["messages_unacknowledged"], 0);
}

TEST_F(HttpListsTest, HealthChecksWithoutListeners) {
  const json ok = {{"status", "ok"}, {"reason", "single node cluster"}};
  EXPECT_EQ(call("GET", "/api/health/checks/node-is-quorum-critical").json, ok);
  EXPECT_EQ(call("GET", "/api/health/checks/node-is-mirror-sync-critical").json, ok);
  EXPECT_EQ(call("GET", "/api/health/checks/certificate-expiration/4/weeks").json,
            (json{{"status", "ok"}}));
  EXPECT_EQ(call("GET", "/api/health/checks/certificate-expiration/x/days").json,
            bad_request_body("Invalid expiration value."));
  EXPECT_EQ(call("GET", "/api/health/checks/certificate-expiration/1/fortnights").json,
            bad_request_body("Time unit not recognised. Supported units: days, weeks, months, "
                             "years."));
  EXPECT_EQ(call("GET", "/api/health/checks/port-listener/x").json,
            bad_request_body("Invalid port"));
  EXPECT_EQ(call("GET", "/api/health/checks/node-is-quorum-critical", "", "alice").status, 200u);
  EXPECT_EQ(call("GET", "/api/aliveness-test/%2F").json, (json{{"status", "ok"}}));
}

TEST_F(HttpListsTest, ResourcesOfFeaturesNotInUse) {
  for (const char* path : {"/api/parameters", "/api/parameters/shovel", "/api/operator-policies",
                           "/api/operator-policies/%2F", "/api/vhost-limits",
                           "/api/vhost-limits/%2F", "/api/user-limits", "/api/user-limits/guest"}) {
    Reply r = call("GET", path);
    EXPECT_EQ(r.status, 200u) << path;
    EXPECT_EQ(r.json, json::array()) << path;
  }
  for (const char* path : {"/api/parameters/shovel/%2F/x", "/api/vhost-limits/no-such-vhost",
                           "/api/user-limits/no-such-user", "/api/operator-policies/no-such-vhost"})
    EXPECT_EQ(call("GET", path).json, kNotFound) << path;
  EXPECT_EQ(call("GET", "/api/feature-flags", "", "alice").json,
            error_body("not_authorised", "Not administrator user"));
  EXPECT_EQ(call("GET", "/api/parameters", "", "alice").json,
            error_body("not_authorised", "User not authorised to access object"));
  EXPECT_EQ(call("GET", "/api/vhost-limits", "", "alice").json, json::array());
}

}  // namespace
}  // namespace pulse::http::testing
