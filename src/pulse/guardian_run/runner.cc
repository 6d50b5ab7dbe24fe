#include "pulse/guardian_run/runner.h"

#include <exception>
#include <optional>
#include <utility>
#include <variant>

#include "base/log.h"

namespace pulse::guardian {
namespace {

std::string queue_target(const std::string& vhost, const std::string& name) {
  return std::string("q") + '\0' + vhost + '\0' + name;
}

std::string connection_target(const std::string& name) {
  return std::string("c") + '\0' + name;
}

// The command a notice reports, if any ("" for warnings and back-to-normal).
std::string target_of(const Notice& n) {
  switch (n.event) {
    case Event::kDeleted:
    case Event::kIdleDeleted:
      return queue_target(n.vhost, n.queue);
    case Event::kConnectionClosed:
      return connection_target(n.connection);
    case Event::kWarning:
    case Event::kBackToNormal:
    case Event::kOperator:
      break;
  }
  return {};
}

}  // namespace

GuardianRunner::GuardianRunner(admin::BrokerAdmin& admin, GuardianSettings settings,
                               std::vector<NoticeSink*> sinks)
    : admin_(admin),
      policy_(std::move(settings)),
      backoff_(policy_.settings().interval),
      sinks_(std::move(sinks)) {}

void GuardianRunner::set_settings(GuardianSettings settings) {
  const bool new_interval = settings.interval != policy_.settings().interval;
  backoff_ = PollBackoff(settings.interval);
  policy_.set_settings(std::move(settings));
  if (new_interval && interval_changed_) interval_changed_(policy_.settings().interval);
}

std::chrono::seconds GuardianRunner::poll(admin::TimePoint now) {
  ++stats_.polls;
  auto queues = admin_.list_queues();
  if (!queues) return failed(queues.error());
  std::vector<admin::ConnectionInfo> connections;
  if (policy_.settings().max_connection_age > std::chrono::seconds(0)) {
    auto listed = admin_.list_connections();
    if (!listed) return failed(listed.error());
    connections = std::move(*listed);
  }
  const std::vector<Action> actions = policy_.observe(now, *queues, connections);

  // Once the broker is unreachable the remaining commands are not tried (each would wait for
  // the same failure); the policy asks for them again at the next poll. Notices without a
  // command still go out: the policy will not make them again.
  std::optional<Error> unreachable;
  std::set<Target> asked;
  Target last_target;
  Outcome last_outcome = Outcome::kDone;
  for (size_t i = 0; i < actions.size(); ++i) {
    const Action& action = actions[i];
    if (const auto* n = std::get_if<Notice>(&action)) {
      const Target t = target_of(*n);
      if (!t.empty() && t == last_target && last_outcome != Outcome::kDone) {
        held_[t] = *n;
      } else {
        deliver(*n);
      }
      last_target.clear();
      continue;
    }
    Target t;
    Outcome o = Outcome::kUnavailable;
    if (const auto* d = std::get_if<DeleteQueue>(&action)) {
      t = queue_target(d->vhost, d->name);
      if (!unreachable) o = carry_out(*d);
    } else if (const auto* c = std::get_if<CloseConnection>(&action)) {
      t = connection_target(c->name);
      if (!unreachable) o = carry_out(*c);
    }
    if (o == Outcome::kUnavailable && !unreachable) unreachable = last_error_;
    asked.insert(t);
    if (o == Outcome::kDone) {
      auto held = held_.find(t);
      if (held != held_.end()) {
        // A fresh notice right behind the command replaces the held one.
        const bool fresh = i + 1 < actions.size() &&
                           std::holds_alternative<Notice>(actions[i + 1]) &&
                           target_of(std::get<Notice>(actions[i + 1])) == t;
        if (!fresh) deliver(held->second);
        held_.erase(held);
      }
    }
    last_target = std::move(t);
    last_outcome = o;
  }
  std::erase_if(held_, [&](const auto& kv) { return !asked.count(kv.first); });
  std::erase_if(failing_, [&](const Target& t) { return !asked.count(t); });

  if (unreachable) return failed(*unreachable);
  if (backoff_.consecutive_errors() > 0) {
    spdlog::info("guardian: polling again after {} failed polls", backoff_.consecutive_errors());
  }
  return backoff_.on_success();
}

GuardianRunner::Outcome GuardianRunner::carry_out(const DeleteQueue& d) {
  const Status st = admin_.delete_queue(d.vhost, d.name, d.reason);
  if (st) ++stats_.queues_deleted;
  return report(st, queue_target(d.vhost, d.name),
                "deleting queue '" + d.name + "' in vhost '" + d.vhost + "'");
}

GuardianRunner::Outcome GuardianRunner::carry_out(const CloseConnection& c) {
  const Status st = admin_.close_connection(c.name, c.reason);
  if (st) ++stats_.connections_closed;
  return report(st, connection_target(c.name), "closing connection '" + c.name + "'");
}

GuardianRunner::Outcome GuardianRunner::report(const Status& st, const Target& target,
                                               const std::string& what) {
  // Gone already is what the command wanted.
  if (st || st.error().code == admin::kNotFound) {
    failing_.erase(target);
    return Outcome::kDone;
  }
  if (st.error().code == admin::kUnavailable) {
    last_error_ = Error{st.error().code, what + ": " + st.error().text};
    return Outcome::kUnavailable;
  }
  ++stats_.command_failures;
  // The policy asks again at every poll: one line while it keeps failing, not one per poll.
  if (failing_.insert(target).second) {
    spdlog::warn("guardian: {} failed: {} (retried at every poll, logged once)", what,
                 st.error().text);
  } else {
    spdlog::debug("guardian: {} failed again: {}", what, st.error().text);
  }
  return Outcome::kFailed;
}

void GuardianRunner::announce(const Notice& notice) {
  deliver(notice);
}

void GuardianRunner::deliver(const Notice& notice) {
  ++stats_.notices;
  for (NoticeSink* sink : sinks_) {
    // A sink must not throw (notice_sink.h); one that does must not stop the others or the
    // caller's loop.
    try {
      sink->send(notice);
    } catch (const std::exception& e) {
      spdlog::error("guardian: a notice sink failed: {}", e.what());
    }
  }
}

std::chrono::seconds GuardianRunner::failed(const Error& error) {
  ++stats_.failed_polls;
  const auto next = backoff_.on_error();
  if (next.notify_admins) {
    spdlog::error(
        "guardian: poll failed: {}; retrying in {} s (logged once until a poll "
        "succeeds)",
        error.text, next.delay.count());
  } else {
    spdlog::debug("guardian: poll failed again: {}; retrying in {} s", error.text,
                  next.delay.count());
  }
  return next.delay;
}

}  // namespace pulse::guardian
