#include "app/pulse_service.h"

#include <fstream>
#include <sstream>

namespace pulse::app {

namespace {

// The definitions store's kv scope of the push subscriptions (one record each).
constexpr const char* kPushScope = "pulse.push";

}  // namespace

PulseService::PulseService(boost::asio::io_context& io, ManagementContext& ctx,
                           accounts::AccountSettings settings, push::Settings push)
    : store_(ctx.store),
      admin_(ctx.broker, ctx.auth, local_admin_hooks(ctx)),
      account_store_(ctx.store),
      guardian_store_(ctx.store, accounts::kPulseGuardianScope),
      host_(io, admin_, account_store_, guardian_store_, std::move(settings)),
      push_source_(ctx.broker),
      push_store_(ctx.store, kPushScope),
      push_(io, push_source_, push_store_, std::move(push)) {}

Status PulseService::start() {
  if (auto s = host_.start(); !s) return s;
  if (auto s = push_.start(); !s) return s;
  host_.attach_push(&push_.engine(), [this] { push_.kick(); });
  return {};
}

Status PulseService::import_section(const api::PulseSection& section) {
  return host_.import_section(
      section, [this](const std::function<Status()>& fn) { return store_.transaction(fn); });
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

}  // namespace pulse::app
