#pragma once
// Told about every successful change to the definitions a restart could bring back: vhosts,
// exchanges, queues, bindings, policies, vhost limits and global parameters. The broker stays free
// of storage code; the owner (pulsed's app layer) decides what is durable and writes it through.
// Calls come on the event loop, after the change took effect, for every entity (durable or
// not) and every cause (client request, auto-delete, x-expires, exclusive owner gone,
// definitions import).
//
// Deleting an exchange or queue does not report the bindings that went with it: a store drops
// bindings that mention a deleted entity itself (RabbitMQ semantics). Default exchanges ("" and
// amq.*) exist in every vhost and are never reported.
#include <string>

namespace pulse::broker {

class VHost;
class Exchange;
class Queue;
struct Binding;
class Policy;

class DefinitionsObserver {
 public:
  virtual ~DefinitionsObserver() = default;
  virtual void on_vhost_added(const std::string& vhost) = 0;
  virtual void on_vhost_deleted(const std::string& vhost) = 0;
  // A vhost's description, tags or default queue type changed (after on_vhost_added).
  virtual void on_vhost_metadata_changed(const VHost& vhost) { (void)vhost; }
  // A vhost's limits (its vhost-limits runtime parameter) were set, changed or cleared.
  virtual void on_vhost_limits_changed(const VHost& vhost) { (void)vhost; }
  virtual void on_exchange_declared(VHost& vhost, const Exchange& x) = 0;
  virtual void on_exchange_deleted(VHost& vhost, const Exchange& x) = 0;
  virtual void on_queue_declared(VHost& vhost, Queue& q) = 0;
  virtual void on_queue_deleted(VHost& vhost, const Queue& q) = 0;
  // Only new bindings and bindings that existed are reported (no duplicates).
  virtual void on_binding_added(VHost& vhost, const Binding& b) = 0;
  virtual void on_binding_removed(VHost& vhost, const Binding& b) = 0;
  // Policies are always durable in RabbitMQ. A replaced policy is reported as set again.
  virtual void on_policy_set(VHost& vhost, const Policy& p) = 0;
  virtual void on_policy_cleared(VHost& vhost, const std::string& name) = 0;
  // Global runtime parameters (cluster_name, ...), always durable in RabbitMQ; `value_json`
  // is the value's JSON text.
  virtual void on_global_parameter_set(const std::string& name, const std::string& value_json) {
    (void)name;
    (void)value_json;
  }
  virtual void on_global_parameter_cleared(const std::string& name) { (void)name; }
};

}  // namespace pulse::broker
