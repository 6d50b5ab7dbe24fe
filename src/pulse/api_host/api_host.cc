#include "pulse/api_host/api_host.h"

#include <algorithm>

#include "base/log.h"

namespace pulse::api {

namespace {

// A sweep at least this often (claims made meanwhile reschedule it), at most every second.
constexpr std::chrono::seconds kMaxSweepDelay{60};
constexpr std::chrono::seconds kMinSweepDelay{1};

}  // namespace

ApiHost::ApiHost(boost::asio::io_context& io, admin::BrokerAdmin& admin,
                 accounts::AccountStore& accounts, accounts::AccountStore& guardian,
                 accounts::AccountSettings settings)
    : accounts_(admin, accounts, std::move(settings)), api_(accounts_, guardian), timer_(io) {}

Status ApiHost::start() {
  if (auto s = accounts_.load(); !s) return s;
  if (auto s = api_.load(); !s) return s;
  spdlog::info("pulse: {} owners, {} namespace claims", accounts_.owners().size(),
               accounts_.claims().size());
  schedule();
  return {};
}

void ApiHost::stop() {
  stopped_ = true;
  timer_.cancel();
}

void ApiHost::attach_guardian(guardian::GuardianRunner& runner,
                              const guardian::NoticeLog& notices) {
  if (auto s = api_.attach_guardian(runner, notices); !s) spdlog::warn("pulse: {}", s.error().text);
}

void ApiHost::set_account_settings(accounts::AccountSettings settings) {
  accounts_.set_settings(std::move(settings));
  timer_.cancel();
  schedule();
}

Status ApiHost::import_section(const PulseSection& section,
                               const PulseApi::Transaction& transaction) {
  if (auto s = api_.import_section(section, transaction); !s) return s;
  spdlog::info("pulse: imported {} account records and the guardian's layer ({} unbounded flags)",
               section.accounts.size(), section.guardian.unbounded.size());
  // Imported claims may be due before the sweep scheduled.
  timer_.cancel();
  schedule();
  return {};
}

// The next claim due for rotation or expiry, within [1 s, 60 s].
void ApiHost::schedule() {
  if (stopped_) return;
  const auto now = admin::Clock::now();
  auto due = now + kMaxSweepDelay;
  for (const auto& c : accounts_.claims())
    due = std::min({due, c.expires, c.last_rotation + accounts_.settings().rotation_interval});
  auto delay = std::chrono::ceil<std::chrono::seconds>(due - now);
  delay = std::clamp<std::chrono::seconds>(delay, kMinSweepDelay, kMaxSweepDelay);
  timer_.expires_after(delay);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_) return;
    sweep();
  });
}

void ApiHost::sweep() {
  const auto now = admin::Clock::now();
  auto log = [](const char* what, const accounts::SweepReport& r) {
    for (const auto& ns : r.done) spdlog::info("pulse: {} namespace '{}'", what, ns);
    for (const auto& e : r.errors) spdlog::warn("pulse: {} (retried)", e.text);
  };
  log("expired", accounts_.expire(now));
  log("rotated the credentials of", accounts_.rotate(now));
  schedule();
}

std::optional<std::string> ApiHost::owner_address(const std::string& owner) const {
  auto u = accounts_.find_user(owner);
  if (!u || u->owners.empty()) return std::nullopt;
  return u->owners.front();
}

httpd::Response ApiHost::handle(const httpd::Request& req, const Principal& who) {
  ApiRequest r;
  r.method = req.method == "HEAD" ? "GET" : req.method;
  r.segments.assign(req.segments.begin() + 1, req.segments.end());
  r.query = req.query;
  r.body = req.body;
  r.principal = who;
  const ApiResponse a = api_.handle(r);
  // A claim made or ended may be due before the sweep scheduled.
  if (!r.segments.empty() && r.segments[0] == "namespaces" && r.method != "GET") {
    timer_.cancel();
    schedule();
  }
  httpd::Response out = httpd::empty_response(a.status);
  if (!a.body.is_null()) {
    out.body = a.text();
    out.content_type = "application/json";
  }
  out.headers = a.headers;
  return out;
}

}  // namespace pulse::api
