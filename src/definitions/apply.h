#pragma once
// The one path from the model into a live broker and auth store, used by pulsed's --definitions,
// by recovery from the definitions database at start-up and by POST /api/definitions. It can stop
// between entries and resume, so a big import runs in slices without stalling the loop.
//
// Order (RabbitMQ's import order): vhosts, global parameters, users, permissions, topic
// permissions, vhost parameters, policies, exchanges, queues, bindings. Policies come before
// exchanges and queues so that what is declared starts with its policy in force. Of the vhost
// parameters only vhost limits (component "vhost-limits") are applied; a user's "limits" are
// merged into its own.
#include <array>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "auth/auth_store.h"
#include "base/result.h"
#include "broker/broker.h"
#include "definitions/model.h"

namespace pulse::definitions {

enum class Section {
  kVhosts,
  kGlobalParameters,
  kUsers,
  kPermissions,
  kTopicPermissions,
  kParameters,
  kPolicies,
  kExchanges,
  kQueues,
  kBindings,
  kDone,
};
inline constexpr size_t kSectionCount = static_cast<size_t>(Section::kDone);

struct ApplyOptions {
  enum class OnRefused {
    kStop,  // import: the first refused entry stops the apply with an error naming it
    kSkip,  // recovery: logged at warn, counted, skipped: a row an upgrade made invalid must not
            // take every other definition hostage
  };
  OnRefused on_refused = OnRefused::kStop;
  // Recovery recreates a vhost an entry names (the database cannot hold orphans); an import
  // refuses "definitions refer to vhost 'v' which is not defined".
  bool create_missing_vhosts = false;
  // Recovery: amq.gen-* names of durable server-named queues come back as they were.
  bool server_named_queues = false;
  // Runs after queues[i] is declared; its error stops the apply whatever on_refused says
  // (recovery attaches the queue's messages here).
  std::function<Status(broker::Queue&, size_t i)> queue_declared;
};

class DefinitionsApply {
 public:
  DefinitionsApply(std::shared_ptr<const Definitions> defs, broker::Broker& broker,
                   auth::AuthStore& auth, ApplyOptions options = {});
  // Applies entries while `keep_going` returns true (at least one); true while some are left.
  // An import (OnRefused::kStop) checks the vhosts' max-queues as RabbitMQ's validate_limits
  // does, once users and vhosts are in: new queues past a limit stop the import there.
  Result<bool> step(const std::function<bool()>& keep_going);
  // Everything at once.
  Status run();

  // Entries applied per section (the built-in exchanges, recreated by every vhost, are not
  // counted), and entries skipped (OnRefused::kSkip).
  size_t applied(Section s) const { return applied_[static_cast<size_t>(s)]; }
  size_t skipped() const { return skipped_; }

  // The definitions, for the caller to free where it likes; the applier is done with them.
  std::shared_ptr<const Definitions> take_definitions() { return std::move(defs_); }

 private:
  // true: applied; false: nothing to do. An error is the broker's or auth store's refusal.
  Result<bool> apply_one();
  Result<bool> apply_user(const User& u);
  Result<bool> apply_parameter(const Parameter& p);
  Status check_queue_limits() const;
  Result<bool> apply_policy(const Policy& p);
  Result<bool> apply_exchange(const Exchange& x);
  Result<bool> apply_queue(const Queue& q);
  Result<bool> apply_binding(const Binding& b);
  Result<broker::VHost*> vhost(const std::string& name);
  size_t section_size() const;
  // The current entry as an import error names it, or as a recovery warning does.
  std::string label() const;
  Status refused(Error e);

  std::shared_ptr<const Definitions> defs_;
  broker::Broker& broker_;
  auth::AuthStore& auth_;
  ApplyOptions options_;
  Section section_ = Section::kVhosts;
  size_t index_ = 0;
  std::array<size_t, kSectionCount> applied_{};
  size_t skipped_ = 0;
  bool fatal_ = false;  // set by apply_one for errors no OnRefused may skip
  bool limits_checked_ = false;
};

// Applies `defs` at once (start-up): DefinitionsApply(...).run().
Status apply_definitions(const Definitions& defs, broker::Broker& broker, auth::AuthStore& auth,
                         ApplyOptions options = {});

}  // namespace pulse::definitions
