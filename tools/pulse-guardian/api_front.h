#pragma once
// pulse-guardian's --listen: the admin UI and Pulse's HTTP API in front of RabbitMQ, as pulsed
// serves them. The UI's static files (httpd's StaticFiles from --web-dir or the default web
// directory), RabbitMQ's own management API through ApiProxy (every /api/... but /api/pulse),
// and /api/pulse: pulse/api_host's ApiHost (the AccountService over the guardian's HttpBrokerAdmin,
// PulseApi, the claims' sweep) with its records in --state-file (one JSON file, the scopes
// pulse.owner and pulse.guardian as pulsed's kv table has them), httpd's server (HTTP, or HTTPS
// with --listen-cert/--listen-key), and sign-in by RabbitMQ's whoami.
//
// Thread: the loop's io_context, which also runs the guardian's polls: one thread owns the
// runner, the account service and the API. /api/pulse's calls to RabbitMQ block it, each
// bounded by --timeout; the proxied requests run on ApiProxy's workers.
#include <memory>
#include <optional>
#include <string>

#include "api_proxy.h"
#include "base/result.h"
#include "config_file.h"
#include "guardian_args.h"
#include "httpd/server.h"
#include "httpd/static_files.h"
#include "mgmt/http_client.h"
#include "pulse/accounts/account_store.h"
#include "pulse/api_host/api_host.h"
#include "pulse/api_host/whoami_auth.h"
#include "pulse/push_amqp/amqp_source.h"
#include "pulse/push_host/push_host.h"
#include "tls/context.h"

namespace pulse::tools {

class ApiFront {
 public:
  // `admin` and `rabbit` (the guardian's management API client) must outlive the front.
  // `amqp`: where the push subscriptions read their queues (--amqp-url, or the management
  // URL's host); none: /api/pulse/subscriptions answers 503.
  ApiFront(boost::asio::io_context& io, const GuardianArgs& args, const GuardianConfig& config,
           admin::BrokerAdmin& admin, const mgmt::HttpClient& rabbit,
           std::vector<client::ConnectionOptions> amqp = {});

  // Reads --state-file and the web directory (an error: unreadable or damaged, which stops
  // the start).
  Status load();
  // Plugs the guardian in (its notices and settings behind /api/pulse/guardian...).
  void attach_guardian(guardian::GuardianRunner& runner, const guardian::NoticeLog& notices);
  // Opens --listen; the error names the address (taken, bad TLS files).
  Status listen();
  void stop();

  std::optional<std::string> owner_address(const std::string& owner) const {
    return host_.owner_address(owner);
  }

 private:
  void handle(httpd::Request req, httpd::Reply done);

  const GuardianArgs& args_;
  accounts::JsonFileAccountStore file_;
  accounts::ScopedAccountStore account_store_;
  accounts::ScopedAccountStore guardian_store_;
  api::ApiHost host_;
  // Push subscriptions: records in the state file's scope pulse.push, queues over AMQP.
  accounts::ScopedAccountStore push_store_;
  bool push_enabled_;
  push::AmqpSource push_source_;
  push::PushHost push_;
  api::WhoamiAuth auth_;
  httpd::StaticFiles web_;
  ApiProxy proxy_;
  httpd::Server server_;
};

}  // namespace pulse::tools
