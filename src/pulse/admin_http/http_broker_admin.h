#pragma once
// BrokerAdmin over the management HTTP API (RabbitMQ 3.10's, which pulsed serves too): the
// backend for a RabbitMQ node or cluster, making PulseGuardian's calls (README.md lists them).
#include <chrono>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "base/result.h"
#include "mgmt/http_client.h"
#include "pulse/admin/broker_admin.h"

namespace pulse::admin {

struct HttpAdminSettings {
  std::string url = "http://127.0.0.1:15672";  // http[s]://HOST[:PORT][/PREFIX]
  std::string user = "guest";
  std::string password = "guest";
  std::chrono::milliseconds timeout{30000};  // per step of a request
  mgmt::TlsSettings tls;
};

class HttpBrokerAdmin : public BrokerAdmin {
 public:
  // Fails (code 400) on a malformed URL; nothing is sent yet.
  static Result<std::unique_ptr<HttpBrokerAdmin>> create(const HttpAdminSettings& settings);
  explicit HttpBrokerAdmin(mgmt::HttpClient client);

  Result<std::vector<QueueInfo>> list_queues() override;
  Status delete_queue(const std::string& vhost, const std::string& name,
                      const std::string& reason) override;
  Result<std::vector<ExchangeInfo>> list_exchanges() override;
  Status delete_exchange(const std::string& vhost, const std::string& name) override;
  Result<std::vector<ConnectionInfo>> list_connections() override;
  Status close_connection(const std::string& name, const std::string& reason) override;
  Result<std::vector<UserInfo>> list_users() override;
  Status put_user(const std::string& name, const std::string& password,
                  const std::vector<std::string>& tags) override;
  Status delete_user(const std::string& name) override;
  Status set_permissions(const std::string& vhost, const std::string& user,
                         const Permissions& permissions) override;
  Result<std::vector<UserPermissions>> list_permissions(const std::string& user) override;

 private:
  mgmt::HttpClient client_;
};

// A user's (or whoami's) "tags": a list in RabbitMQ 3.10 and pulsed, a comma-separated string
// in older versions; none when absent.
std::vector<std::string> user_tags(const nlohmann::json& user);

}  // namespace pulse::admin
