#pragma once
// PulseApi over an AccountService (LocalBrokerAdmin, in-process broker, memory stores), with
// principals as pulsed's management API would hand them over after Basic auth.
#include <memory>
#include <string>

#include "../pulse_accounts/accounts_fixture.h"
#include "pulse/api/api.h"

namespace pulse::api::testing {

using accounts::testing::AccountsTest;

class ApiTest : public AccountsTest {
 protected:
  ApiTest() { api = make_api(); }

  std::unique_ptr<PulseApi> make_api() {
    auto a = std::make_unique<PulseApi>(*service, guardian_store, [this] { return now; });
    EXPECT_TRUE(a->load().ok());
    return a;
  }

  ApiResponse call(const Principal& who, const std::string& method, const std::string& target,
                   const std::string& body = "") {
    ApiRequest r;
    r.method = method;
    EXPECT_TRUE(parse_target(target, r)) << target;
    r.body = body;
    r.principal = who;
    return api->handle(r);
  }

  // An owner with a sign-in, made by the administrator through the API.
  void make_owner(const std::string& email, bool admin_flag = false) {
    auto r = call(root, "PUT", "/owners/" + email,
                  nlohmann::json{{"password", "secret1"}, {"admin", admin_flag}}.dump());
    ASSERT_EQ(r.status, 201u) << r.text();
  }

  void make_user(const Principal& owner, const std::string& name) {
    auto r = call(owner, "PUT", "/users/" + name, R"({"password": "secret1"})");
    ASSERT_EQ(r.status, 201u) << r.text();
  }

  static std::string reason(const ApiResponse& r) {
    return r.body.is_object() && r.body.contains("reason") ? r.body["reason"].get<std::string>()
                                                           : std::string();
  }

  const Principal root{"guest", {"administrator"}};
  const Principal a{"a@example.com", {"management"}};
  const Principal b{"b@example.com", {"management"}};
  const Principal stranger{"carol", {"management"}};
  TimePoint now = t0;
  accounts::MemoryAccountStore guardian_store;
  std::unique_ptr<PulseApi> api;
};

}  // namespace pulse::api::testing
