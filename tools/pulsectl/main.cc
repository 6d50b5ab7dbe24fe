// pulsectl: RabbitMQ management API client for pulsed and RabbitMQ 3.10. See README.md.
#include <CLI/CLI.hpp>
#include <array>
#include <functional>
#include <iostream>
#include <memory>

#include "commands.h"
#include "exit_codes.h"
#include "pulse_args.h"

namespace pulse::ctl {
namespace {

constexpr const char* kFooter = R"(
Lists cover every vhost unless --vhost is given; other commands act on --vhost (default /).
Pulse accounts and the guardian (/api/pulse): pulsectl pulse --help.
Environment: PULSECTL_URL, PULSECTL_USER, PULSECTL_PASSWORD, PULSECTL_CACERT.
https:// URLs: the server's certificate must chain to --cacert (else the system's CAs) and be
valid for the URL's host; rabbitmqadmin's --ssl-* option names are accepted too.

Exit status:
   0  success
   1  the server refused or failed the request (its reason is printed)
   2  usage error, or a bad input file
   3  not found: the object or its vhost does not exist
  69  server unreachable: connection refused, unknown host, timed out, or no trusted TLS
      connection (certificate verify failed, host name mismatch, not a TLS port)
  77  not authorised: login failed, or the user lacks the tag or permission (HTTP 401;
      pulse commands: also HTTP 403))";

using Action = std::function<Status(const Ctx&)>;

// A command: when CLI11 has parsed it, `run` becomes the action. Its options live in shared
// state the action captures, so they are read when it runs, after parsing.
CLI::App* leaf(CLI::App* parent, const std::string& name, const std::string& help, Action& action,
               Action run) {
  CLI::App* sub = parent->add_subcommand(name, help);
  sub->callback([&action, run] { action = run; });
  return sub;
}

void add_object_commands(CLI::App& app, Action& action) {
  auto* declare = app.add_subcommand("declare", "declare a queue, exchange or binding");
  declare->require_subcommand(0, 1);
  auto q = std::make_shared<QueueSpec>();
  auto* dq = leaf(declare, "queue", "declare a queue", action,
                  [q](const Ctx& c) { return declare_queue(c, *q); });
  dq->add_option("NAME", q->name, "queue name")->required();
  dq->add_flag("--durable", q->durable, "survives a broker restart");
  dq->add_flag("--auto-delete", q->auto_delete, "deleted when its last consumer goes");
  dq->add_option("--arg", q->args, "argument KEY=VALUE or KEY:=JSON, e.g. x-max-length=10");

  auto x = std::make_shared<ExchangeSpec>();
  auto* dx = leaf(declare, "exchange", "declare an exchange", action,
                  [x](const Ctx& c) { return declare_exchange(c, *x); });
  dx->add_option("NAME", x->name, "exchange name")->required();
  dx->add_option("-t,--type", x->type, "direct, fanout, topic, headers, ...")->required();
  dx->add_flag("--durable", x->durable, "survives a broker restart");
  dx->add_flag("--auto-delete", x->auto_delete, "deleted when its last binding goes");
  dx->add_flag("--internal", x->internal, "no direct publishing, only exchange-to-exchange");
  dx->add_option("--arg", x->args, "argument KEY=VALUE or KEY:=JSON");

  auto b = std::make_shared<BindingSpec>();
  auto binding_options = [b](CLI::App* sub) {
    sub->add_option("SOURCE", b->source, "source exchange")->required();
    sub->add_option("DESTINATION", b->destination, "destination queue or exchange")->required();
    sub->add_option("--destination-type", b->destination_type, "queue or exchange")
        ->check(CLI::IsMember({"queue", "exchange"}))
        ->capture_default_str();
    sub->add_option("-k,--routing-key", b->routing_key, "routing key (default empty)");
    sub->add_option("--arg", b->args, "binding argument KEY=VALUE or KEY:=JSON");
  };
  binding_options(leaf(declare, "binding", "bind an exchange to a queue or exchange", action,
                       [b](const Ctx& c) { return declare_binding(c, *b); }));

  auto* del =
      app.add_subcommand("delete", "delete a queue, exchange, binding, user, vhost or policy");
  del->require_subcommand(0, 1);
  auto name = std::make_shared<std::string>();
  auto flags = std::make_shared<std::pair<bool, bool>>();  // if-empty, if-unused
  auto* delq = leaf(del, "queue", "delete a queue", action, [name, flags](const Ctx& c) {
    return delete_queue(c, *name, flags->first, flags->second);
  });
  delq->add_option("NAME", *name, "queue name")->required();
  delq->add_flag("--if-empty", flags->first, "only if it has no messages");
  delq->add_flag("--if-unused", flags->second, "only if it has no consumers");
  auto* delx = leaf(del, "exchange", "delete an exchange", action, [name, flags](const Ctx& c) {
    return delete_exchange(c, *name, flags->second);
  });
  delx->add_option("NAME", *name, "exchange name")->required();
  delx->add_flag("--if-unused", flags->second, "only if it has no bindings");
  binding_options(leaf(del, "binding", "remove a binding (routing key and arguments must match)",
                       action, [b](const Ctx& c) { return delete_binding(c, *b); }));
  leaf(del, "user", "delete a user", action, [name](const Ctx& c) { return delete_user(c, *name); })
      ->add_option("NAME", *name, "user name")
      ->required();
  leaf(del, "vhost", "delete a vhost and everything in it", action,
       [name](const Ctx& c) { return delete_vhost(c, *name); })
      ->add_option("NAME", *name, "vhost name")
      ->required();
  leaf(del, "policy", "delete a policy (same as clear policy)", action,
       [name](const Ctx& c) { return clear_policy(c, *name); })
      ->add_option("NAME", *name, "policy name")
      ->required();

  auto* purge = app.add_subcommand("purge", "remove every ready message of a queue");
  purge->require_subcommand(0, 1);
  leaf(purge, "queue", "purge a queue", action,
       [name](const Ctx& c) { return purge_queue(c, *name); })
      ->add_option("NAME", *name, "queue name")
      ->required();

  auto* close = app.add_subcommand("close", "close a client connection");
  close->require_subcommand(0, 1);
  auto reason = std::make_shared<std::string>();
  auto* cc =
      leaf(close, "connection", "close a connection (the client sees CONNECTION_FORCED)", action,
           [name, reason](const Ctx& c) { return close_connection(c, *name, *reason); });
  cc->add_option("NAME", *name, "connection name, as list connections shows it")->required();
  cc->add_option("--reason", *reason, "text the client receives (sent as X-Reason)");
}

void add_access_commands(CLI::App& app, Action& action) {
  auto* add = app.add_subcommand("add", "add a user or vhost");
  add->require_subcommand(0, 1);
  auto name = std::make_shared<std::string>();
  auto password = std::make_shared<std::string>();
  auto hash = std::make_shared<std::string>();
  auto tags = std::make_shared<std::string>();
  auto* au = add->add_subcommand("user", "add (or update) a user");
  au->add_option("NAME", *name, "user name")->required();
  auto* pw = au->add_option("--password", *password, "password ('-': read it from stdin)");
  auto* ph = au->add_option("--password-hash", *hash,
                            "password hash as in definitions (base64 salted SHA-256)");
  pw->excludes(ph);
  au->add_option("--tags", *tags, "comma-separated: administrator, monitoring, management, ...");
  au->callback([pw, ph, &action, name, password, hash, tags] {
    if (pw->count() == 0 && ph->count() == 0) {
      throw CLI::RequiredError("--password or --password-hash");
    }
    action = [=](const Ctx& c) {
      return add_user(c, *name, tools::read_secret(*password), *hash, *tags);
    };
  });
  auto description = std::make_shared<std::string>();
  auto* av = leaf(add, "vhost", "add a vhost", action,
                  [=](const Ctx& c) { return add_vhost(c, *name, *description); });
  av->add_option("NAME", *name, "vhost name")->required();
  av->add_option("--description", *description, "free text");

  auto* set = app.add_subcommand("set", "set a user's permissions, a policy or the cluster name");
  set->require_subcommand(0, 1);
  auto perms =
      std::make_shared<std::array<std::string, 3>>(std::array<std::string, 3>{".*", ".*", ".*"});
  auto* sp =
      leaf(set, "permissions", "set a user's permissions on --vhost", action, [=](const Ctx& c) {
        return set_permissions(c, *name, (*perms)[0], (*perms)[1], (*perms)[2]);
      });
  sp->add_option("USER", *name, "user name")->required();
  sp->add_option("--configure", (*perms)[0], "regex of resources the user may configure")
      ->capture_default_str();
  sp->add_option("--write", (*perms)[1], "regex of resources the user may write to")
      ->capture_default_str();
  sp->add_option("--read", (*perms)[2], "regex of resources the user may read from")
      ->capture_default_str();
  auto policy = std::make_shared<PolicySpec>();
  auto* spol = leaf(set, "policy", "set a policy on --vhost", action, [=](const Ctx& c) {
    PolicySpec p = *policy;
    p.name = *name;
    return set_policy(c, p);
  });
  spol->add_option("NAME", *name, "policy name")->required();
  spol->add_option("--pattern", policy->pattern, "regex of the queue/exchange names it applies to")
      ->required();
  spol->add_option("--definition", policy->definition, "JSON object, e.g. '{\"max-length\": 10}'")
      ->required();
  spol->add_option("--priority", policy->priority, "higher wins")->capture_default_str();
  spol->add_option("--apply-to", policy->apply_to, "queues, exchanges or all")
      ->capture_default_str();

  leaf(set, "cluster-name", "rename the cluster (administrators)", action,
       [name](const Ctx& c) { return set_cluster_name(c, *name); })
      ->add_option("NAME", *name, "new cluster name")
      ->required();

  auto* clear = app.add_subcommand("clear", "clear a user's permissions or a policy");
  clear->require_subcommand(0, 1);
  leaf(clear, "permissions", "remove a user's permissions on --vhost", action,
       [name](const Ctx& c) { return clear_permissions(c, *name); })
      ->add_option("USER", *name, "user name")
      ->required();
  leaf(clear, "policy", "delete a policy on --vhost", action,
       [name](const Ctx& c) { return clear_policy(c, *name); })
      ->add_option("NAME", *name, "policy name")
      ->required();
}

void add_definition_commands(CLI::App& app, Action& action) {
  auto file = std::make_shared<std::string>("-");
  auto* exp = app.add_subcommand("export", "export definitions");
  exp->require_subcommand(0, 1);
  leaf(exp, "definitions", "write the definitions (of --vhost, else all) as JSON", action,
       [file](const Ctx& c) { return export_definitions(c, *file); })
      ->add_option("FILE", *file, "file to write, '-' for stdout")
      ->capture_default_str();
  auto* imp = app.add_subcommand("import", "import definitions");
  imp->require_subcommand(0, 1);
  leaf(imp, "definitions", "load definitions (into --vhost if given) from a JSON file", action,
       [file](const Ctx& c) { return import_definitions(c, *file); })
      ->add_option("FILE", *file, "file to read, '-' for stdin")
      ->required();
  auto* clone = app.add_subcommand("clone", "copy a vhost's definitions into a new vhost");
  clone->require_subcommand(0, 1);
  auto names = std::make_shared<std::pair<std::string, std::string>>();
  auto* cv =
      leaf(clone, "vhost",
           "create DESTINATION with SOURCE's queues, exchanges, bindings and policies, "
           "and your permissions on SOURCE",
           action, [names](const Ctx& c) { return clone_vhost(c, names->first, names->second); });
  cv->add_option("SOURCE", names->first, "existing vhost")->required();
  cv->add_option("DESTINATION", names->second, "vhost to create")->required();
}

}  // namespace

void Ctx::say(const std::string& line) const {
  if (!opt.json) std::cout << line << "\n";
}

int run(int argc, char** argv) {
  GlobalOptions opt;
  CLI::App app{"pulsectl: manage pulsed or RabbitMQ through the management HTTP API"};
  app.footer(kFooter);
  app.fallthrough();  // global options may follow the command
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", std::string("pulsectl ") + PULSE_VERSION);
  tools::add_mgmt_options(app, opt.mgmt);
  auto* vhost = app.add_option("-V,--vhost", opt.vhost, "vhost (default /; lists: all vhosts)");
  app.add_flag("--json", opt.json, "machine-readable JSON output");
  app.add_flag("--no-header", opt.no_header, "tables without their header line");
  Action action;
  leaf(&app, "status", "node, versions, object totals, alarms and listeners", action, cmd_status);
  auto kind = std::make_shared<std::string>();
  auto columns = std::make_shared<std::string>();
  auto* list = leaf(&app, "list", "list objects as a table (or JSON with --json)", action,
                    [kind, columns](const Ctx& c) { return cmd_list(c, *kind, *columns); });
  list->add_option("KIND", *kind, "what to list")->required()->check(CLI::IsMember(kListKinds));
  list->add_option("-c,--columns", *columns,
                   "comma-separated fields, dotted paths allowed (message_stats.publish); "
                   "'all' for every field");
  add_object_commands(app, action);
  add_access_commands(app, action);
  add_definition_commands(app, action);
  auto pulse = std::make_shared<PulseCommand>();
  add_pulse_commands(app, pulse, [&action, pulse] {
    action = [pulse](const Ctx& c) { return run_pulse(c, *pulse); };
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  if (!action) {
    // CLI11 would say "A subcommand is required" even for a misspelt one; subcommands are
    // optional to it so that a stray word is reported as such, and a missing one here.
    const CLI::App* group = &app;
    std::string words = "pulsectl";
    for (auto subs = group->get_subcommands(); !subs.empty(); subs = group->get_subcommands()) {
      group = subs.front();
      words += " " + group->get_name();
    }
    std::string choices;
    for (const CLI::App* sub : group->get_subcommands({})) {
      choices += (choices.empty() ? "" : ", ") + sub->get_name();
    }
    std::cerr << words << ": a command is required: " << choices
              << "\nRun with --help for more information.\n";
    return kExitUsage;
  }
  opt.vhost_given = vhost->count() > 0;
  opt.mgmt.password = tools::read_secret(opt.mgmt.password);
  auto url = parse_url(opt.mgmt.url);
  if (!url) {
    std::cerr << "pulsectl: " << url.error().text << "\n";
    return url.error().code;
  }
  HttpClient client(*url, opt.mgmt.user, opt.mgmt.password, opt.mgmt.timeout(), opt.mgmt.tls);
  client.set_user_agent("pulsectl");
  Api api(std::move(client));
  Ctx ctx{api, opt};
  Status s = action(ctx);
  std::cout.flush();
  if (!s) {
    std::cerr << "pulsectl: " << s.error().text << "\n";
    return s.error().code;
  }
  return kExitOk;
}

}  // namespace pulse::ctl

int main(int argc, char** argv) {
  return pulse::ctl::run(argc, argv);
}
