#pragma once
// RabbitMQ's global runtime parameters (rabbit_runtime_parameters with no vhost): named JSON
// values, among them `cluster_name` (what the node calls its cluster in connection.start,
// the management API and Prometheus) and `internal_cluster_id` (the permanent id Prometheus
// reports). The broker owns the one copy everything reads, so a name set over HTTP shows in
// the next AMQP handshake without anyone copying it around. Event-loop thread only.
#include <map>
#include <string>

#include "base/result.h"

namespace pulse::broker {

class GlobalParameters {
 public:
  static constexpr const char* kClusterName = "cluster_name";
  static constexpr const char* kInternalClusterId = "internal_cluster_id";

  // `value_json` is JSON text. A cluster_name must be a JSON string (RabbitMQ stores anything
  // and then serves numbers where clients expect a string, or fails with 500): 400-class error.
  static Status validate(const std::string& name, const std::string& value_json);

  // Returns true when the parameter was created, false when replaced. Call validate() first.
  bool set(const std::string& name, std::string value_json);
  bool clear(const std::string& name);
  const std::string* find(const std::string& name) const;
  // By name, as RabbitMQ lists them.
  const std::map<std::string, std::string>& all() const { return values_; }

  // The cluster_name parameter, or the default (the node name) while it is unset.
  const std::string& cluster_name() const;
  void set_default_cluster_name(std::string name) { default_cluster_name_ = std::move(name); }
  // Empty while unset (pulsed sets one per data directory at start).
  const std::string& internal_cluster_id() const { return internal_cluster_id_; }

 private:
  void refresh(const std::string& name);

  std::map<std::string, std::string> values_;
  std::string default_cluster_name_ = "pulse@localhost";
  std::string cluster_name_;  // decoded from the parameter; empty value is a valid name
  bool has_cluster_name_ = false;
  std::string internal_cluster_id_;
};

}  // namespace pulse::broker
