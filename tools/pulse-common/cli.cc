#include "cli.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>

#include "pulse/endpoints.h"

namespace pulse::tools {

bool parse_cli(CLI::App& app, std::string_view program, int argc, const char* const* argv,
               int& exit_code, std::string& message) {
  try {
    app.parse(argc, argv);
    return true;
  } catch (const CLI::ParseError& e) {
    std::ostringstream out, err;
    const int rc = app.exit(e, out, err);
    exit_code = rc == 0 ? kExitOk : kExitUsage;
    message = rc == 0 ? out.str() : std::string(program) + ": " + err.str();
    return false;
  }
}

CLI::Option* add_uri_option(CLI::App& app, std::string& uri) {
  return app.add_option(
      "--uri", uri,
      "amqp://user:pass@host:port/vhost?heartbeat=N (plain, port 5672), "
      "amqps://user:pass@host/vhost?cacertfile=CA.pem (TLS, port 5671; also certfile, keyfile, "
      "verify, server_name_indication, auth_mechanism=external), or user:pass@host without a "
      "scheme: amqps:// as mozillapulse connects (e.g. me:secret@pulse.mozilla.org); a list "
      "separated by ',', ';' or spaces is tried in turn (env PULSE_URI; default " +
          std::string(kDefaultUri) + ", the local broker)");
}

Result<std::vector<client::ConnectionOptions>> resolve_endpoints(const std::string& uri_flag,
                                                                 const char* env_uri) {
  std::string uris = uri_flag, source = "--uri";
  if (uris.empty() && env_uri != nullptr && *env_uri != '\0') {
    uris = env_uri;
    source = "PULSE_URI";
  }
  if (uris.empty()) uris = kDefaultUri;
  auto list = parse_uri_list(uris);
  if (!list) return Error{0, source + ": " + list.error().text};
  return list;
}

std::string host_port(const client::ConnectionOptions& endpoint) {
  const bool v6 = endpoint.host.find(':') != std::string::npos;
  return (v6 ? "[" + endpoint.host + "]" : endpoint.host) + ":" + std::to_string(endpoint.port);
}

void say(std::string_view program, std::string_view text) {
  std::string line;
  line.reserve(program.size() + text.size() + 3);
  line.append(program).append(": ").append(text).push_back('\n');
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

void announce_recovery(RecoveryOptions& recovery, std::string program,
                       std::function<void()> before) {
  recovery.on_disconnected = [program, before](const Error& why) {
    if (before) before();
    say(program, "connection lost: " + why.text + "; reconnecting");
  };
  recovery.on_recovered = [program, before](const client::ConnectionOptions& endpoint) {
    if (before) before();
    say(program, "recovered on " + host_port(endpoint));
  };
  recovery.on_attempt_failed = [program, before](const client::ConnectionOptions& endpoint,
                                                 const Error& why) {
    if (before) before();
    say(program, "cannot connect to " + host_port(endpoint) + ": " + why.text + "; retrying");
  };
}

void handle_stop_signals(void (*handler)(int)) {
  struct sigaction sa {};
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

}  // namespace pulse::tools
