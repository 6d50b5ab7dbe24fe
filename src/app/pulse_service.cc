#include "app/pulse_service.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "base/log.h"

namespace pulse::app {

namespace {

// A sweep at least this often (claims made meanwhile reschedule it), at most every second.
constexpr std::chrono::seconds kMaxSweepDelay{60};
constexpr std::chrono::seconds kMinSweepDelay{1};

}  // namespace

PulseService::PulseService(boost::asio::io_context& io, ManagementContext& ctx,
                           accounts::AccountSettings settings)
    : store_(ctx.store),
      admin_(ctx.broker, ctx.auth, local_admin_hooks(ctx)),
      account_store_(ctx.store),
      guardian_store_(ctx.store, accounts::kPulseGuardianScope),
      accounts_(admin_, account_store_, std::move(settings)),
      api_(accounts_, guardian_store_),
      timer_(io) {}

Status PulseService::start() {
  if (auto s = accounts_.load(); !s) return s;
  if (auto s = api_.load(); !s) return s;
  spdlog::info("pulse: {} owners, {} namespace claims", accounts_.owners().size(),
               accounts_.claims().size());
  schedule();
  return {};
}

void PulseService::stop() {
  stopped_ = true;
  timer_.cancel();
}

void PulseService::attach_guardian(guardian::GuardianRunner& runner,
                                   const guardian::NoticeLog& notices) {
  if (auto s = api_.attach_guardian(runner, notices); !s) spdlog::warn("pulse: {}", s.error().text);
}

// The next claim due for rotation or expiry, within [1 s, 60 s].
void PulseService::schedule() {
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

void PulseService::sweep() {
  const auto now = admin::Clock::now();
  auto log = [](const char* what, const accounts::SweepReport& r) {
    for (const auto& ns : r.done) spdlog::info("pulse: {} namespace '{}'", what, ns);
    for (const auto& e : r.errors) spdlog::warn("pulse: {} (retried)", e.text);
  };
  log("expired", accounts_.expire(now));
  log("rotated the credentials of", accounts_.rotate(now));
  schedule();
}

void PulseService::set_account_settings(accounts::AccountSettings settings) {
  accounts_.set_settings(std::move(settings));
  // A shorter rotation interval may make a claim due now.
  timer_.cancel();
  schedule();
}

Status PulseService::import_section(const api::PulseSection& section) {
  auto s = api_.import_section(
      section, [this](const std::function<Status()>& fn) { return store_.transaction(fn); });
  if (!s) return s;
  spdlog::info("pulse: imported {} account records and the guardian's layer ({} unbounded flags)",
               section.accounts.size(), section.guardian.unbounded.size());
  // Imported claims may be due before the sweep scheduled.
  timer_.cancel();
  schedule();
  return {};
}

Result<std::optional<api::PulseSection>> read_pulse_section(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{0, path + ": cannot read the file"};
  std::stringstream ss;
  ss << in.rdbuf();
  const auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error{0, path + ": not a JSON object"};
  auto it = j.find(api::kSectionKey);
  if (it == j.end()) return std::optional<api::PulseSection>();
  auto section = api::parse_section(*it);
  if (!section) return Error{0, path + ": " + section.error().text};
  return std::optional<api::PulseSection>(std::move(*section));
}

std::optional<std::string> PulseService::owner_address(const std::string& owner) const {
  auto u = accounts_.find_user(owner);
  if (!u || u->owners.empty()) return std::nullopt;
  return u->owners.front();
}

http::Response PulseService::handle(const http::Request& req, const auth::User& user) {
  api::ApiRequest r;
  r.method = req.method == "HEAD" ? "GET" : req.method;
  r.segments.assign(req.segments.begin() + 1, req.segments.end());
  r.query = req.query;
  r.body = req.body;
  r.principal = {user.name, user.tags};
  const api::ApiResponse a = api_.handle(r);
  // A claim made or ended may be due before the sweep scheduled.
  if (!r.segments.empty() && r.segments[0] == "namespaces" && r.method != "GET") {
    timer_.cancel();
    schedule();
  }
  http::Response out = http::empty_response(a.status);
  if (!a.body.is_null()) {
    out.body = a.text();
    out.content_type = "application/json";
  }
  out.headers = a.headers;
  return out;
}

}  // namespace pulse::app
