#include "api_front.h"

#include "base/log.h"
#include "base/url.h"
#include "httpd/web_dir.h"

namespace pulse::tools {

ApiFront::ApiFront(boost::asio::io_context& io, const GuardianArgs& args,
                   const GuardianConfig& config, admin::BrokerAdmin& admin,
                   const mgmt::HttpClient& rabbit, std::vector<client::ConnectionOptions> amqp)
    : args_(args),
      file_(args.state_file),
      account_store_(file_, "pulse.owner"),
      guardian_store_(file_, "pulse.guardian"),
      host_(io, admin, account_store_, guardian_store_, config.accounts),
      push_store_(file_, "pulse.push"),
      push_enabled_(!amqp.empty()),
      push_source_(std::move(amqp)),
      push_(io, push_source_, push_store_,
            [&] {
              // Each look at an idle queue is a round trip to RabbitMQ on this loop.
              push::Settings s = config.push;
              s.idle_poll = std::chrono::milliseconds(1000);
              return s;
            }()),
      auth_(rabbit),
      proxy_(io, rabbit),
      server_(io, [] {
        httpd::ServerOptions o;
        o.server_name = "pulse-guardian";
        o.body_limit = ApiProxy::kMaxBody;
        return o;
      }()) {}

Status ApiFront::load() {
  if (auto s = host_.start(); !s) return Error{kExitUsage, "--state-file: " + s.error().text};
  if (push_enabled_) {
    if (auto s = push_.start(); !s) return Error{kExitUsage, "--state-file: " + s.error().text};
    host_.attach_push(&push_.engine(), [this] { push_.kick(); });
  }
  auto web = httpd::load_web_dir(args_.web_dir);
  if (!web) return Error{kExitUsage, web.error().text};
  web_ = std::move(*web);
  return {};
}

void ApiFront::attach_guardian(guardian::GuardianRunner& runner,
                               const guardian::NoticeLog& notices) {
  host_.attach_guardian(runner, notices);
}

Status ApiFront::listen() {
  httpd::Handler handler = [this](httpd::Request req, httpd::Reply done) {
    handle(std::move(req), std::move(done));
  };
  const bool tls = !args_.listen_cert.empty();
  Result<boost::asio::ip::tcp::endpoint> bound = Error{0, ""};
  if (tls) {
    tls::ServerTlsOptions o;
    o.certfile = args_.listen_cert;
    o.keyfile = args_.listen_key;
    auto holder = std::make_shared<tls::ContextHolder>("--listen-cert", o);
    if (auto s = holder->load(); !s) return Error{kExitUsage, s.error().text};
    bound = server_.listen_tls(args_.listen_host, args_.listen_port, std::move(holder),
                               std::move(handler), "HTTPS");
  } else {
    bound = server_.listen(args_.listen_host, args_.listen_port, std::move(handler), "HTTP");
  }
  if (!bound) return Error{kExitUsage, bound.error().text};
  spdlog::info("pulse: serving the admin UI and /api/pulse on {}://{}, the rest of /api from {}",
               tls ? "https" : "http",
               format_host_port(bound->address().to_string(), bound->port()), args_.mgmt.url);
  return {};
}

void ApiFront::stop() {
  server_.shutdown();
  proxy_.stop();
  host_.attach_push(nullptr);
  push_.stop();
  host_.stop();
}

// The UI's files are served here, /api/pulse/... is answered here, and the rest of /api is
// RabbitMQ's own management API, passed on.
void ApiFront::handle(httpd::Request req, httpd::Reply done) {
  if (httpd::StaticFiles::owns(req)) {
    done(web_.serve(req, req.if_none_match));
    return;
  }
  if (!req.under_api) {
    done(httpd::not_found());
    return;
  }
  if (req.segments.empty() || req.segments[0] != "pulse") {
    proxy_.forward(std::move(req), std::move(done));
    return;
  }
  auto who = auth_.authenticate(req);
  if (auto* refusal = std::get_if<httpd::Response>(&who)) {
    done(std::move(*refusal));
    return;
  }
  httpd::Response r = host_.handle(req, std::get<api::Principal>(who));
  // A login made, changed or removed: the next request asks RabbitMQ again.
  if (req.method != "GET" && req.method != "HEAD" && r.status < 300) auth_.forget();
  done(std::move(r));
}

}  // namespace pulse::tools
