// The command line of `pulsectl pulse ...` (CLI11), filling one PulseCommand.
#include "pulse_args.h"

namespace pulse::ctl {

namespace {

constexpr const char* kPulseFooter = R"(
Pulse's API (/api/pulse) is served by pulsed, and by pulse-guardian in front of RabbitMQ.
Administrators (tag administrator, or an admin owner) may do everything; an owner signs in
with its email (-u alice@example.com -p -) and manages its own Pulse users.
Passwords: '-' reads them from stdin (the first line; after -p -'s line when both are '-').

Examples:
  pulsectl pulse owners create alice@example.com --display-name Alice --password -
  pulsectl -u alice@example.com -p - pulse users create ci --password - --description CI
  pulsectl pulse namespaces claim ci --expires +7d --contact ci@example.com
  pulsectl pulse guardian set warn_queue_size=1000 interval=30s max_connection_age=default
  pulsectl pulse guardian notices --follow --owner ci
  pulsectl pulse guardian unbounded add / queue/ci/builds
  pulsectl pulse subscriptions add --exchange exchange/build/ --topic '#.finished' \
      --callback https://ci.example.com/hook --secret s3cret --lease 7d

--json prints lists and objects as JSON (and, after a change, the API's answer).
Exit status: 0 ok, 1 refused (409, 400, 503: the API's reason), 2 usage, 3 not found (404),
69 unreachable, 77 not authorised (401, and 403: the signed-in user may not do this).)";

// An empty name would make the path name the collection ("/api/pulse/users/"), not an object.
const CLI::Validator kNotEmpty(
    [](std::string& s) { return s.empty() ? std::string("must not be empty") : std::string(); }, "",
    "not empty");

using Cmd = std::shared_ptr<PulseCommand>;
using Text = std::optional<std::string> PulseCommand::*;
using Count = std::optional<uint64_t> PulseCommand::*;

struct Builder {
  Cmd cmd;
  std::function<void()> chosen;

  // A command; parsing it records noun and verb and makes it the one to run.
  CLI::App* leaf(CLI::App* parent, const std::string& noun, const std::string& verb,
                 const std::string& help, std::function<void()> check = nullptr) const {
    CLI::App* sub = parent->add_subcommand(verb, help);
    sub->callback([cmd = cmd, chosen = chosen, noun, verb, check] {
      cmd->noun = noun;
      cmd->verb = verb;
      if (check) check();
      chosen();
    });
    return sub;
  }
  CLI::App* group(CLI::App* parent, const std::string& name, const std::string& help) const {
    CLI::App* g = parent->add_subcommand(name, help);
    g->require_subcommand(0, 1);  // pulsectl's main names the missing command
    return g;
  }
  void name(CLI::App* sub, const std::string& label, const std::string& help) const {
    sub->add_option(label, cmd->name, help)->required()->check(kNotEmpty);
  }
  void text(CLI::App* sub, const std::string& flags, Text field, const std::string& help) const {
    sub->add_option_function<std::string>(
        flags, [cmd = cmd, field](const std::string& v) { (*cmd).*field = v; }, help);
  }
  CLI::Option* count(CLI::App* sub, const std::string& flags, Count field,
                     const std::string& help) const {
    return sub->add_option_function<uint64_t>(
        flags, [cmd = cmd, field](const uint64_t& v) { (*cmd).*field = v; }, help);
  }
  void columns(CLI::App* sub) const {
    sub->add_option("-c,--columns", cmd->columns,
                    "comma-separated fields, dotted paths allowed; 'all' for every field");
  }
  void password(CLI::App* sub, const std::string& help) const {
    text(sub, "--password", &PulseCommand::password, help);
  }
};

void owners(const Builder& b, CLI::App* pulse) {
  auto* g = b.group(pulse, "owners", "Pulse owners (people; administrators only, or yourself)");
  b.columns(b.leaf(g, "owners", "list", "list the owners"));
  b.name(b.leaf(g, "owners", "show", "show an owner"), "EMAIL", "owner email");
  for (const char* verb : {"create", "update"}) {
    const bool create = std::string(verb) == "create";
    auto* s = b.leaf(g, "owners", verb,
                     create ? "create an owner (with --password: its login too)"
                            : "change an owner's display name, admin flag or password");
    b.name(s, "EMAIL", "owner email (its login name)");
    b.text(s, "--display-name", &PulseCommand::display_name, "name shown for the owner");
    s->add_option_function<std::string>(
         "--admin", [cmd = b.cmd](const std::string& v) { cmd->admin = v; },
         "true: a Pulse administrator (administrators only)")
        ->check(CLI::IsMember({"true", "false"}));
    b.password(s, "password of the owner's login ('-': read it from stdin)");
  }
  b.name(b.leaf(g, "owners", "delete", "delete an owner and its login (it must own no users)"),
         "EMAIL", "owner email");
}

void users(const Builder& b, CLI::App* pulse) {
  auto* g = b.group(pulse, "users", "Pulse users (AMQP logins owned by an owner)");
  b.columns(b.leaf(g, "users", "list", "list your Pulse users (administrators: all)"));
  b.name(b.leaf(g, "users", "show", "show a Pulse user"), "NAME", "Pulse user name");
  auto* c = b.leaf(g, "users", "create", "create a Pulse user");
  b.name(c, "NAME", "Pulse user name (its queues are queue/NAME/...)");
  c->add_option_function<std::string>(
       "--password", [cmd = b.cmd](const std::string& v) { cmd->password = v; },
       "its password ('-': read it from stdin)")
      ->required();
  b.text(c, "--owner", &PulseCommand::owner,
         "owner email (administrators; default: yourself, if you are an owner)");
  b.text(c, "--description", &PulseCommand::description, "free text");
  auto* sp = b.leaf(g, "users", "set-password",
                    "give a Pulse user a new password (its connections stay open)");
  b.name(sp, "NAME", "Pulse user name");
  b.password(sp, "the new password (default '-': read it from stdin)");
  auto* d = b.leaf(g, "users", "delete", "delete a Pulse user (its connections close)");
  b.name(d, "NAME", "Pulse user name");
  d->add_flag("--delete-queues", b.cmd->delete_queues, "also delete its queue/NAME/... queues");
  auto* q = b.leaf(g, "users", "queues", "list a Pulse user's queues and their bindings");
  b.name(q, "NAME", "Pulse user name");
  b.columns(q);
}

void namespaces(const Builder& b, CLI::App* pulse) {
  auto* g = b.group(pulse, "namespaces", "namespace claims (administrators)");
  g->alias("claims");
  b.columns(b.leaf(g, "namespaces", "list", "list the claimed namespaces"));
  b.name(b.leaf(g, "namespaces", "show", "show a claim"), "NS", "namespace");
  auto* c = b.leaf(g, "namespaces", "claim",
                   "claim (or refresh) a namespace: prints its user, password and "
                   "connection string");
  b.name(c, "NS", "namespace (its queues are queue/NS/...)");
  c->add_option("--expires", b.cmd->expires,
                "RFC 3339 time (2027-01-15T08:00:00Z) or +DURATION from now (+7d, +12h)")
      ->required();
  b.text(c, "--contact", &PulseCommand::contact, "who to ask about it");
  b.name(b.leaf(g, "namespaces", "release",
                "release a claim now: its users, connections, queues and exchanges go"),
         "NS", "namespace");
}

void guardian(const Builder& b, CLI::App* pulse) {
  auto* g = b.group(pulse, "guardian", "the guardian: settings, thresholds, notices, unbounded");
  b.leaf(g, "guardian", "show", "settings in force (and which are set here), statistics");
  std::string keys;
  for (const auto& k : kGuardianSettingKeys) keys += (keys.empty() ? "" : ", ") + k;
  b.leaf(g, "guardian", "set", "change settings (administrators)")
      ->add_option("SETTING", b.cmd->settings,
                   "KEY=VALUE; KEY: " + keys +
                       "; seconds or durations (5m) for interval and ages; "
                       "VALUE 'default' returns to the configured value")
      ->required();

  auto* o = b.group(g, "owners", "per-owner queue size thresholds");
  b.leaf(o, "guardian-owners", "list", "thresholds in force per owner");
  const Cmd cmd = b.cmd;
  auto* os =
      b.leaf(o, "guardian-owners", "set", "set an owner's thresholds (administrators)", [cmd] {
        if (!cmd->warn && !cmd->del) throw CLI::RequiredError("--warn or --delete (or both)");
      });
  b.name(os, "OWNER", "the <owner> of queue/<owner>/... (a Pulse user or namespace)");
  b.count(os, "--warn", &PulseCommand::warn, "warn_queue_size: messages that warn")
      ->check(CLI::PositiveNumber);
  b.count(os, "--delete", &PulseCommand::del, "delete_queue_size: messages that delete")
      ->check(CLI::PositiveNumber);
  b.name(b.leaf(o, "guardian-owners", "reset",
                "remove the thresholds set here (the configured ones apply again)"),
         "OWNER", "queue owner");

  auto* n = b.leaf(g, "guardian", "notices", "the guardian's notices, oldest first");
  b.count(n, "--after", &PulseCommand::after, "only notices with a higher id");
  b.text(n, "--owner", &PulseCommand::owner, "only this queue owner's notices");
  b.count(n, "--limit", &PulseCommand::limit, "at most this many")->check(CLI::PositiveNumber);
  n->add_flag("-f,--follow", b.cmd->follow,
              "keep polling for new notices until interrupted (--json: one object a line)");
  n->add_option("--poll", b.cmd->poll_seconds, "--follow: seconds between polls")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  b.columns(n);

  auto* u = b.group(g, "unbounded", "queues the guardian never deletes for their size");
  b.leaf(u, "guardian-unbounded", "list", "queues marked unbounded");
  for (const char* verb : {"add", "remove"}) {
    auto* s = b.leaf(u, "guardian-unbounded", verb,
                     std::string(verb) == "add" ? "mark a queue unbounded (administrators)"
                                                : "unmark a queue (administrators)");
    b.name(s, "VHOST", "vhost of the queue ('/' for the default vhost)");
    s->add_option("QUEUE", b.cmd->queue, "queue name")->required()->check(kNotEmpty);
  }
}

void subscriptions(const Builder& b, CLI::App* pulse) {
  auto* g = b.group(pulse, "subscriptions", "HTTP push subscriptions (yours; administrators: all)");
  b.columns(b.leaf(g, "subscriptions", "list", "list push subscriptions and their state"));
  b.name(b.leaf(g, "subscriptions", "show", "show a push subscription"), "ID", "subscription id");
  auto* a = b.leaf(g, "subscriptions", "add",
                   "subscribe a callback URL (or renew the same one): Pulse verifies it, then "
                   "POSTs each matching message");
  a->add_option("--exchange", b.cmd->exchange, "exchange to bind")->required()->check(kNotEmpty);
  a->add_option("--callback", b.cmd->callback, "http:// or https:// URL")
      ->required()
      ->check(kNotEmpty);
  a->add_option("--secret", b.cmd->secret, "HMAC key of X-Hub-Signature-256")
      ->required()
      ->check(kNotEmpty);
  b.text(a, "--topic", &PulseCommand::topic, "routing-key pattern (default '#')");
  b.text(a, "--vhost", &PulseCommand::vhost, "vhost (default '/')");
  b.text(a, "--lease", &PulseCommand::lease, "lease: seconds or a duration (7d); default 1d");
  b.text(a, "--user", &PulseCommand::user,
         "the Pulse user whose queue/<user>/push-<id> holds the messages (default: you)");
  b.name(b.leaf(g, "subscriptions", "delete", "end a push subscription now (its queue goes)"), "ID",
         "subscription id");
}

}  // namespace

CLI::App* add_pulse_commands(CLI::App& app, std::shared_ptr<PulseCommand> cmd,
                             std::function<void()> chosen) {
  Builder b{std::move(cmd), std::move(chosen)};
  auto* pulse = b.group(&app, "pulse",
                        "Pulse accounts and the guardian: whoami, owners, users, namespaces, "
                        "guardian, subscriptions");
  pulse->footer(kPulseFooter);
  b.leaf(pulse, "whoami", "whoami", "who you are signed in as, and your Pulse role");
  owners(b, pulse);
  users(b, pulse);
  namespaces(b, pulse);
  guardian(b, pulse);
  subscriptions(b, pulse);
  return pulse;
}

}  // namespace pulse::ctl
