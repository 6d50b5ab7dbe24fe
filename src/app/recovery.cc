// Start-up: definitions from the store into the broker and the auth store, through the same
// apply path as an import (definitions::DefinitionsApply), in its recovery mode.
#include <memory>
#include <set>
#include <string>

#include "app/persistence.h"
#include "base/log.h"
#include "definitions/apply.h"

namespace pulse::app {

using definitions::Section;

std::string RecoverySummary::text() const {
  std::string s = std::to_string(vhosts) + " vhosts, " + std::to_string(users) + " users, " +
                  std::to_string(permissions) + " permissions, " +
                  std::to_string(topic_permissions) + " topic permissions, " +
                  std::to_string(policies) + " policies, " + std::to_string(exchanges) +
                  " exchanges, " + std::to_string(queues) + " queues, " + std::to_string(bindings) +
                  " bindings, " + std::to_string(messages) + " messages";
  if (skipped) s += " (" + std::to_string(skipped) + " skipped, see warnings)";
  return s;
}

namespace {

RecoverySummary summary_of(const definitions::DefinitionsApply& apply) {
  RecoverySummary sum;
  sum.vhosts = apply.applied(Section::kVhosts);
  sum.users = apply.applied(Section::kUsers);
  sum.permissions = apply.applied(Section::kPermissions);
  sum.topic_permissions = apply.applied(Section::kTopicPermissions);
  sum.policies = apply.applied(Section::kPolicies);
  sum.exchanges = apply.applied(Section::kExchanges);
  sum.queues = apply.applied(Section::kQueues);
  sum.bindings = apply.applied(Section::kBindings);
  sum.skipped = apply.skipped();
  return sum;
}

}  // namespace

Result<RecoverySummary> recover_definitions(store::DefinitionsStore& store, broker::Broker& broker,
                                            auth::AuthStore& auth, persist::QueueStorage* queues) {
  auto loaded = store.load_all();
  if (!loaded) return std::move(loaded).error();
  const std::vector<uint64_t> ids = std::move(loaded->queue_ids);
  if (queues) {
    if (auto s = queues->prepare(std::set<uint64_t>(ids.begin(), ids.end())); !s)
      return std::move(s).error();
  }
  size_t messages = 0;
  definitions::ApplyOptions options{.on_refused = definitions::ApplyOptions::OnRefused::kSkip,
                                    .create_missing_vhosts = true,
                                    .server_named_queues = true,
                                    .queue_declared = nullptr};
  if (queues) {
    options.queue_declared = [&](broker::Queue& q, size_t i) -> Status {
      if (auto s = queues->attach_durable(q, ids[i]); !s)
        return Error{0, "messages of " + q.describe() + ": " + s.error().text};
      messages += q.message_count();
      return ok_status();
    };
  }
  definitions::DefinitionsApply apply(
      std::make_shared<const definitions::Definitions>(std::move(loaded->defs)), broker, auth,
      std::move(options));
  if (auto s = apply.run(); !s) return std::move(s).error();
  RecoverySummary sum = summary_of(apply);
  sum.messages = messages;
  // Never written by pulsed (no operator policies yet): reported like any refused row.
  for (const auto& p : loaded->operator_policies) {
    ++sum.skipped;
    spdlog::warn("recovery: skipped policy '{}' in vhost '{}': operator policies are not supported",
                 p.name, p.vhost);
  }
  return sum;
}

}  // namespace pulse::app
