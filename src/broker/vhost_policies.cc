// Setting and clearing policies, and applying them to the vhost's queues and exchanges.
#include "broker/broker.h"
#include "broker/vhost.h"

namespace pulse::broker {

PolicyPtr VHost::find_policy(const std::string& name) const {
  auto it = policies_.find(name);
  return it == policies_.end() ? nullptr : it->second;
}

Status VHost::set_policy(PolicySpec spec) {
  auto created = Policy::create(name_, std::move(spec));
  if (!created) return std::move(created).error();
  PolicyPtr p = std::move(*created);
  PolicyPtr& slot = policies_[p->name()];
  // RabbitMQ notifies nobody when the stored value did not change.
  if (slot && slot->same_as(*p)) return {};
  slot = p;
  reapply_policies(p->name(), p.get());
  if (auto* o = observer()) o->on_policy_set(*this, *p);
  return {};
}

bool VHost::clear_policy(const std::string& name) {
  auto it = policies_.find(name);
  if (it == policies_.end()) return false;
  // Kept alive until every entity has let go of it.
  PolicyPtr gone = std::move(it->second);
  policies_.erase(it);
  reapply_policies(name, nullptr);
  if (auto* o = observer()) o->on_policy_cleared(*this, name);
  return true;
}

void VHost::apply_queue_policy(Queue& q, PolicyPtr p) {
  // The declared arguments were validated at declare, so they parse again.
  auto declared = parse_queue_args(q.arguments(), q.describe());
  QueueArgs base = declared ? std::move(*declared) : q.args();
  QueueArgs effective = effective_queue_args(base, q.arguments(), p.get());
  q.apply_policy(std::move(p), std::move(effective));
}

void VHost::reapply_policies(const std::string& changed, const Policy* added) {
  // Only entities that held the changed policy, or that the new version matches, can see a
  // different winner: the others skip the full selection (one regex match each).
  auto concerned = [&](const std::shared_ptr<const Policy>& current, const std::string& name,
                       bool kind_ok) {
    if (current && current->name() == changed) return true;
    return added && kind_ok && added->matches_name(name);
  };
  const bool added_queues = added && added->apply_to() != PolicyApplyTo::kExchanges;
  const bool added_exchanges = added && added->apply_to() != PolicyApplyTo::kQueues;
  for (auto& [name, x] : exchanges_) {
    if (!concerned(x->policy(), name, added_exchanges)) continue;
    PolicyPtr p = select_exchange_policy(policies_, name);
    if (p != x->policy()) x->set_policy(std::move(p));
  }
  // Enforcing new limits dead-letters messages, which routes into other queues: work on a
  // snapshot so nothing here depends on the map staying as it is.
  std::vector<QueuePtr> queues;
  for (auto& [name, q] : queues_) {
    bool kind_ok = added_queues && added->applicable_to_queue(q->args().quorum);
    if (concerned(q->policy(), name, kind_ok)) queues.push_back(q);
  }
  for (auto& q : queues) {
    if (q->deleted()) continue;
    PolicyPtr p = select_queue_policy(policies_, q->name(), q->args().quorum);
    if (p != q->policy()) apply_queue_policy(*q, std::move(p));
  }
}

}  // namespace pulse::broker
