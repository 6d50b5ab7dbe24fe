#include "broker/limits.h"

#include <algorithm>
#include <span>

#include "amqp/generated/constants.h"
#include "auth/auth_store.h"
#include "broker/erl_format.h"
#include "broker/errors.h"
#include "broker/vhost.h"

namespace pulse::broker {
namespace {

// rabbit_vhost_limit / rabbit_auth_backend_internal's constraint lists, in their order.
constexpr std::string_view kVhostNames[] = {kMaxConnections, kMaxQueues};
constexpr std::string_view kUserNames[] = {kMaxConnections, kMaxChannels};

std::span<const std::string_view> names_of(LimitKind kind) {
  if (kind == LimitKind::kVhost) return kVhostNames;
  return kUserNames;
}

const char* container_name(LimitKind kind) {
  return kind == LimitKind::kVhost ? "limits" : "user-limits";
}

bool is_integer(const amqp::FieldValue& v) {
  return std::holds_alternative<int8_t>(v.v) || std::holds_alternative<uint8_t>(v.v) ||
         std::holds_alternative<int16_t>(v.v) || std::holds_alternative<uint16_t>(v.v) ||
         std::holds_alternative<int32_t>(v.v) || std::holds_alternative<uint32_t>(v.v) ||
         std::holds_alternative<int64_t>(v.v);
}

Error not_allowed(std::string text) {
  return Error{amqp::kNotAllowed, "NOT_ALLOWED - " + std::move(text)};
}

}  // namespace

std::vector<std::string> limit_errors(LimitKind kind, const amqp::FieldValue& value) {
  // JSON [] is Erlang's empty proplist (how RabbitMQ itself writes empty limits); other
  // lists are pairs RabbitMQ cannot recognise.
  if (const amqp::FieldArray* list = value.as_array()) {
    if (list->empty()) return {};
    return {
        erl::with_term("Unrecognised terms ", value, std::string(" in ") + container_name(kind))};
  }
  const amqp::FieldTable* table = value.as_table();
  if (table == nullptr)
    return {erl::with_term(std::string(container_name(kind)) + " not a list ", value)};
  const auto names = names_of(kind);
  // rabbit_parameter_validation:proplist folds over the constraints, prepending each result,
  // and puts the unrecognised remainder in front.
  std::vector<std::string> out;
  erl::Term unknown{erl::Term::kList, {}, {}};
  for (const auto& [k, v] : *table) {
    if (std::find(names.begin(), names.end(), k) == names.end())
      unknown.elems.push_back(erl::pair_term(k, v));
  }
  if (!unknown.elems.empty()) {
    out.push_back(
        erl::with_term("Unrecognised terms ", unknown, std::string(" in ") + container_name(kind)));
  }
  for (auto it = names.rbegin(); it != names.rend(); ++it) {
    auto found =
        std::find_if(table->begin(), table->end(), [&](const auto& e) { return e.first == *it; });
    if (found == table->end() || is_integer(found->second)) continue;
    out.push_back(
        erl::with_term(std::string(*it) + " should be a number, actually was ", found->second));
  }
  return out;
}

std::string validation_failed_text(const std::vector<std::string>& reasons) {
  std::string out = "Validation failed\n\n";
  for (const auto& r : reasons) out += r + "\n";
  return out;
}

LimitList limit_list(const amqp::FieldValue& value) {
  LimitList out;
  if (const amqp::FieldTable* table = value.as_table()) {
    for (const auto& [k, v] : *table) {
      if (auto n = v.as_int()) out.emplace_back(k, *n);
    }
  }
  return out;
}

std::optional<int64_t> limit_in_force(const LimitList& limits, std::string_view name) {
  for (const auto& [k, v] : limits) {
    if (k == name) return v < 0 ? std::nullopt : std::optional<int64_t>(v);
  }
  return std::nullopt;
}

std::optional<int64_t> limit_in_force(const std::map<std::string, int64_t>& limits,
                                      std::string_view name) {
  auto it = limits.find(std::string(name));
  if (it == limits.end() || it->second < 0) return std::nullopt;
  return it->second;
}

namespace {
// RabbitMQ: a limit of 0 refuses without counting; otherwise count >= limit refuses.
bool reached(int64_t limit, const std::function<size_t()>& count) {
  return limit == 0 || static_cast<uint64_t>(limit) <= count();
}
}  // namespace

Status check_vhost_connection_limit(const VHost& vh, const std::string& user,
                                    const std::function<size_t()>& count) {
  const auto* limits = vh.limits() ? &*vh.limits() : nullptr;
  if (limits == nullptr) return ok_status();
  auto limit = limit_in_force(*limits, kMaxConnections);
  if (!limit || !reached(*limit, count)) return ok_status();
  return not_allowed("access to vhost '" + vh.name() + "' refused for user '" + user +
                     "': connection limit (" + std::to_string(*limit) + ") is reached");
}

Status check_user_connection_limit(const auth::User& user, const std::function<size_t()>& count) {
  auto limit = limit_in_force(user.limits, kMaxConnections);
  if (!limit || !reached(*limit, count)) return ok_status();
  return not_allowed("connection refused for user '" + user.name + "': user connection limit (" +
                     std::to_string(*limit) + ") is reached");
}

Status check_user_channel_limit(const auth::User& user, const std::function<size_t()>& count) {
  auto limit = limit_in_force(user.limits, kMaxChannels);
  if (!limit || !reached(*limit, count)) return ok_status();
  return not_allowed("number of channels opened for user '" + user.name +
                     "' has reached the maximum allowed user limit of (" + std::to_string(*limit) +
                     ")");
}

Status check_vhost_queue_limit(const VHost& vh, const std::string& queue) {
  if (!vh.limits()) return ok_status();
  auto limit = limit_in_force(*vh.limits(), kMaxQueues);
  if (!limit || !reached(*limit, [&] { return vh.queues().size(); })) return ok_status();
  return precondition_failed("cannot declare queue '" + queue + "': queue limit in vhost '" +
                             vh.name() + "' (" + std::to_string(*limit) + ") is reached");
}

}  // namespace pulse::broker
