#pragma once
// pulsectl's commands. Each prints its result on stdout and returns a failure (message and exit
// status, exit_codes.h) for main() to report on stderr.
#include <string>
#include <vector>

#include "api.h"
#include "base/result.h"
#include "mgmt_options.h"

namespace pulse::ctl {

struct GlobalOptions {
  tools::MgmtOptions mgmt;  // --url, -u, -p, TLS, --timeout (tools/pulse-common)
  std::string vhost = "/";
  bool vhost_given = false;  // lists cover every vhost unless --vhost is given
  bool json = false;
  bool no_header = false;
};

struct Ctx {
  Api& api;
  const GlobalOptions& opt;
  // A success line for people; machine output (--json) stays pure JSON.
  void say(const std::string& line) const;
};

// status_list.cc
Status cmd_status(const Ctx& c);
Status cmd_list(const Ctx& c, const std::string& kind, const std::string& columns);
extern const std::vector<std::string> kListKinds;
// Rows as a table, or JSON with --json: the columns -c names (`columns`; "all": every field),
// else `defaults`. `kind` names the rows in the warning about a column none of them has.
Status print_rows(const Ctx& c, const json& rows, const std::string& defaults,
                  const std::string& columns, const std::string& kind);

// pulse_*.cc: `pulsectl pulse ...` (pulse_args.h parses it)
struct PulseCommand;
Status run_pulse(const Ctx& c, const PulseCommand& cmd);

// objects.cc: queues, exchanges, bindings, connections
struct QueueSpec {
  std::string name;
  bool durable = false, auto_delete = false;
  std::vector<std::string> args;
};
struct ExchangeSpec {
  std::string name, type;
  bool durable = false, auto_delete = false, internal = false;
  std::vector<std::string> args;
};
struct BindingSpec {
  std::string source, destination, destination_type = "queue", routing_key;
  std::vector<std::string> args;
};
Status declare_queue(const Ctx& c, const QueueSpec& q);
Status declare_exchange(const Ctx& c, const ExchangeSpec& x);
Status declare_binding(const Ctx& c, const BindingSpec& b);
Status delete_queue(const Ctx& c, const std::string& name, bool if_empty, bool if_unused);
Status delete_exchange(const Ctx& c, const std::string& name, bool if_unused);
Status delete_binding(const Ctx& c, const BindingSpec& b);
Status purge_queue(const Ctx& c, const std::string& name);
Status close_connection(const Ctx& c, const std::string& name, const std::string& reason);

// access.cc: users, vhosts, permissions, policies, cluster name
Status add_user(const Ctx& c, const std::string& name, const std::string& password,
                const std::string& password_hash, const std::string& tags);
Status delete_user(const Ctx& c, const std::string& name);
Status add_vhost(const Ctx& c, const std::string& name, const std::string& description);
Status delete_vhost(const Ctx& c, const std::string& name);
Status set_permissions(const Ctx& c, const std::string& user, const std::string& configure,
                       const std::string& write, const std::string& read);
Status clear_permissions(const Ctx& c, const std::string& user);
struct PolicySpec {
  std::string name, pattern, definition, apply_to = "all";
  int priority = 0;
};
Status set_policy(const Ctx& c, const PolicySpec& p);
Status clear_policy(const Ctx& c, const std::string& name);
Status set_cluster_name(const Ctx& c, const std::string& name);

// definitions.cc
Status export_definitions(const Ctx& c, const std::string& file);
Status import_definitions(const Ctx& c, const std::string& file);
Status clone_vhost(const Ctx& c, const std::string& source, const std::string& target);

// args.cc: "k=v" (integers, decimals, true/false inferred, else a string) and "k:=JSON".
Result<json> parse_args(const std::vector<std::string>& items, const std::string& option);

}  // namespace pulse::ctl
