#include "pulse/guardian/policy.h"

#include <utility>

#include "pulse/admin/naming.h"

namespace pulse::guardian {

using std::chrono::duration_cast;
using std::chrono::seconds;

std::string_view event_name(Event event) {
  switch (event) {
    case Event::kWarning:
      return "warning";
    case Event::kBackToNormal:
      return "back_to_normal";
    case Event::kDeleted:
      return "deleted";
    case Event::kIdleDeleted:
      return "idle_deleted";
    case Event::kConnectionClosed:
      return "connection_closed";
    case Event::kOperator:
      return "operator";
  }
  return "unknown";
}

GuardianPolicy::GuardianPolicy(GuardianSettings settings) : settings_(std::move(settings)) {}

std::vector<Action> GuardianPolicy::observe(TimePoint now, const std::vector<QueueInfo>& queues,
                                            const std::vector<ConnectionInfo>& connections) {
  std::vector<Action> out;
  std::map<QueueRef, QueueState> seen;
  // Both backends list queues sorted by (vhost, name): walking the previous state alongside
  // and appending at the end makes each queue O(1) instead of two tree searches (names share
  // long prefixes, so every comparison is a long memcmp; 10k queues every poll on pulsed's
  // loop). Any other order is still handled, by the searches.
  auto previous = queues_.begin();
  for (const auto& q : queues) {
    QueueRef ref{q.vhost, q.name};
    const bool in_order = seen.empty() || seen.rbegin()->first < ref;
    // A listing that names a queue twice: the first counts.
    if (!in_order && seen.count(ref)) continue;
    while (previous != queues_.end() && previous->first < ref) ++previous;
    auto it = previous != queues_.end() && previous->first == ref ? previous : queues_.find(ref);
    const bool first = it == queues_.end();
    QueueState st = first ? QueueState{} : it->second;
    observe_queue(now, q, &st, first, &out);
    seen.emplace_hint(in_order ? seen.end() : seen.lower_bound(ref), std::move(ref), st);
  }
  queues_ = std::move(seen);

  std::set<std::string> closing;
  if (settings_.max_connection_age > seconds(0)) {
    for (const auto& c : connections) {
      if (now - c.connected_at <= settings_.max_connection_age) continue;
      const auto age = duration_cast<seconds>(now - c.connected_at);
      out.push_back(CloseConnection{
          c.name, "Pulse guardian: connection older than max_connection_age (" +
                      std::to_string(settings_.max_connection_age.count()) + " s)"});
      // Told once; the close is asked again while the broker still lists the connection.
      if (!closing_.count(c.name)) {
        Notice n;
        n.event = Event::kConnectionClosed;
        n.at = now;
        n.vhost = c.vhost;
        if (!c.user.empty()) n.owner = c.user;
        n.connection = c.name;
        n.user = c.user;
        n.peer = c.peer;
        n.connected_at = c.connected_at;
        n.connection_age = age;
        n.max_connection_age = settings_.max_connection_age;
        out.push_back(std::move(n));
      }
      closing.insert(c.name);
    }
  }
  closing_ = std::move(closing);
  return out;
}

void GuardianPolicy::observe_queue(TimePoint now, const QueueInfo& q, QueueState* st, bool first,
                                   std::vector<Action>* out) {
  const auto owner = admin::owner_of_queue(q.name);
  const Thresholds t = thresholds_for(settings_, owner);
  const bool unbounded = settings_.unbounded.count(QueueRef{q.vhost, q.name}) > 0;

  std::optional<double> rate;
  if (!first) {
    const double dt = std::chrono::duration<double>(now - st->seen).count();
    // A wall clock stepped back gives no rate rather than a wrong one.
    if (dt > 0) rate = (static_cast<double>(q.messages) - static_cast<double>(st->messages)) / dt;
  }

  auto idle_for = [&] {
    return st->no_consumer_since ? duration_cast<seconds>(now - *st->no_consumer_since)
                                 : seconds(0);
  };
  auto qualifies_for_delete = [&](bool* over) {
    *over = !unbounded && q.messages > t.delete_queue_size;
    const bool idle = !unbounded && settings_.idle_queue_expiry > seconds(0) && q.consumers == 0 &&
                      st->no_consumer_since &&
                      now - *st->no_consumer_since >= settings_.idle_queue_expiry;
    return *over || idle;
  };

  if (q.consumers == 0) {
    if (!st->no_consumer_since) st->no_consumer_since = now;
  } else {
    st->no_consumer_since.reset();
  }

  auto remember = [&] {
    st->messages = q.messages;
    st->seen = now;
  };
  auto delete_command = [&](bool over) {
    std::string reason = over ? "Pulse guardian: " + std::to_string(q.messages) +
                                    " messages, over the deletion threshold of " +
                                    std::to_string(t.delete_queue_size)
                              : "Pulse guardian: no consumer for " +
                                    std::to_string(idle_for().count()) + " s (idle_queue_expiry " +
                                    std::to_string(settings_.idle_queue_expiry.count()) + " s)";
    out->push_back(DeleteQueue{q.vhost, q.name, std::move(reason)});
  };
  auto notice = [&](Event event) {
    Notice n;
    n.event = event;
    n.at = now;
    n.vhost = q.vhost;
    n.owner = owner;
    n.queue = q.name;
    n.messages = q.messages;
    n.messages_ready = q.messages_ready;
    n.messages_unacknowledged = q.messages_unacknowledged;
    n.growth_rate = rate;
    n.consumers = q.consumers;
    n.bindings = q.bindings;
    n.thresholds = t;
    n.unbounded = unbounded;
    if (event == Event::kIdleDeleted) {
      n.idle_for = idle_for();
      n.idle_queue_expiry = settings_.idle_queue_expiry;
    }
    out->push_back(std::move(n));
  };

  bool over = false;
  if (st->delete_requested) {
    // Still over: the delete failed or is not carried out yet; ask again, tell no one again.
    if (!unbounded && q.messages > t.delete_queue_size) {
      delete_command(true);
      remember();
      return;
    }
    // Otherwise it is taken for a new queue declared under the same name (an idle queue looks
    // the same either way, so a failed idle deletion is retried after a full expiry). Nothing of
    // the old one carries over, not even its growth rate.
    *st = QueueState{};
    rate.reset();
    if (q.consumers == 0) st->no_consumer_since = now;
  }

  if (qualifies_for_delete(&over)) {
    delete_command(over);
    notice(over ? Event::kDeleted : Event::kIdleDeleted);
    st->delete_requested = true;
    st->warned = false;
  } else if (q.messages > t.warn_queue_size) {
    if (!st->warned) notice(Event::kWarning);
    st->warned = true;
  } else if (st->warned) {
    notice(Event::kBackToNormal);
    st->warned = false;
  }
  remember();
}

}  // namespace pulse::guardian
