#pragma once
// An AccountService over LocalBrokerAdmin, an in-process broker ("/" and "v2") and an AuthStore,
// with fake connections (so expiry's closing is seen) and predictable passwords.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../broker/broker_fixture.h"
#include "pulse/accounts/account_service.h"
#include "pulse/admin_local/local_broker_admin.h"

namespace pulse::accounts::testing {

using namespace std::chrono_literals;

class AccountsTest : public broker::testing::BrokerTest {
 protected:
  AccountsTest() {
    broker.add_vhost("v2");
    admin::LocalAdminHooks h;
    h.list_connections = [this] { return connections; };
    h.close_connection = [this](const std::string& name, const std::string& reason) {
      for (auto it = connections.begin(); it != connections.end(); ++it)
        if (it->name == name) {
          closed.emplace_back(name, reason);
          connections.erase(it);
          return true;
        }
      return false;
    };
    admin = std::make_unique<admin::LocalBrokerAdmin>(broker, auth, std::move(h));
    service = make_service();
  }

  std::unique_ptr<AccountService> make_service() {
    auto s = std::make_unique<AccountService>(*admin, store, settings, [this] {
      return "generated" + std::to_string(++passwords_made) + "x";
    });
    EXPECT_TRUE(s->load().ok());
    return s;
  }

  void connect(const std::string& name, const std::string& user) {
    admin::ConnectionInfo c;
    c.name = name;
    c.user = user;
    c.vhost = "/";
    connections.push_back(c);
  }

  bool can_login(const std::string& user, const std::string& password) {
    return auth.authenticate(user, password) != nullptr;
  }

  bool has_user(const std::string& user) { return auth.find_user(user) != nullptr; }

  std::vector<admin::UserPermissions> permissions(const std::string& user) {
    auto p = admin->list_permissions(user);
    return p ? *p : std::vector<admin::UserPermissions>{};
  }

  const TimePoint t0 = Clock::from_time_t(1'800'000'000);
  auth::AuthStore auth;
  std::vector<admin::ConnectionInfo> connections;
  std::vector<std::pair<std::string, std::string>> closed;
  std::unique_ptr<admin::LocalBrokerAdmin> admin;
  MemoryAccountStore store;
  AccountSettings settings;
  int passwords_made = 0;
  std::unique_ptr<AccountService> service;
};

}  // namespace pulse::accounts::testing
