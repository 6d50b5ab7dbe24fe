#pragma once
// A scripted BrokerAdmin (the runner's dependency, not the thing under test): it lists what a
// test put in `queues` / `connections`, deletes from that list, records every call and fails a
// call when told to.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pulse/admin/broker_admin.h"
#include "pulse/guardian/notice_sink.h"

namespace pulse::guardian::test_support {

class FakeAdmin : public admin::BrokerAdmin {
 public:
  std::vector<admin::QueueInfo> queues;
  std::vector<admin::ConnectionInfo> connections;
  std::optional<Error> list_queues_error;
  std::optional<Error> list_connections_error;
  std::map<std::string, Error> delete_errors;  // by queue name
  std::map<std::string, Error> close_errors;   // by connection name
  std::vector<std::string> calls;  // "list_queues", "delete / q: reason", "close c: reason"

  Result<std::vector<admin::QueueInfo>> list_queues() override {
    calls.push_back("list_queues");
    if (list_queues_error) return *list_queues_error;
    return queues;
  }
  Status delete_queue(const std::string& vhost, const std::string& name,
                      const std::string& reason) override {
    calls.push_back("delete " + vhost + " " + name + ": " + reason);
    if (auto it = delete_errors.find(name); it != delete_errors.end()) return it->second;
    auto gone =
        std::erase_if(queues, [&](const auto& q) { return q.vhost == vhost && q.name == name; });
    if (gone == 0) return Error{admin::kNotFound, "no queue '" + name + "'"};
    return {};
  }
  Result<std::vector<admin::ConnectionInfo>> list_connections() override {
    calls.push_back("list_connections");
    if (list_connections_error) return *list_connections_error;
    return connections;
  }
  Status close_connection(const std::string& name, const std::string& reason) override {
    calls.push_back("close " + name + ": " + reason);
    if (auto it = close_errors.find(name); it != close_errors.end()) return it->second;
    auto gone = std::erase_if(connections, [&](const auto& c) { return c.name == name; });
    if (gone == 0) return Error{admin::kNotFound, "no connection '" + name + "'"};
    return {};
  }
  Result<std::vector<admin::ExchangeInfo>> list_exchanges() override {
    return Error{501, "unused"};
  }
  Status delete_exchange(const std::string&, const std::string&) override {
    return Error{501, "unused"};
  }
  Result<std::vector<admin::UserInfo>> list_users() override { return Error{501, "unused"}; }
  Status put_user(const std::string&, const std::string&,
                  const std::vector<std::string>&) override {
    return Error{501, "unused"};
  }
  Status delete_user(const std::string&) override { return Error{501, "unused"}; }
  Status set_permissions(const std::string&, const std::string&,
                         const admin::Permissions&) override {
    return Error{501, "unused"};
  }
  Result<std::vector<admin::UserPermissions>> list_permissions(const std::string&) override {
    return Error{501, "unused"};
  }

  void set_size(const std::string& name, uint64_t messages) {
    for (auto& q : queues) {
      if (q.name == name) q.messages = q.messages_ready = messages;
    }
  }
};

// Keeps "<routing key> <queue or connection> messages=N" per notice.
class RecordingSink : public NoticeSink {
 public:
  std::vector<std::string> got;
  void send(const Notice& n) override;
};

}  // namespace pulse::guardian::test_support
