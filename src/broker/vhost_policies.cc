// Setting and clearing policies, and applying them to the vhost's queues and exchanges.
#include "broker/broker.h"
#include "broker/vhost.h"

namespace pulse::broker {

PolicyPtr VHost::find_policy(const std::string& name) const {
  auto it = policies_.find(name);
  return it == policies_.end() ? nullptr : it->second;
}

Status VHost::set_policy(PolicySpec spec, std::unique_ptr<PolicyReapply>* later) {
  auto created = Policy::create(name_, std::move(spec));
  if (!created) return std::move(created).error();
  PolicyPtr p = std::move(*created);
  PolicyPtr& slot = policies_[p->name()];
  // RabbitMQ notifies nobody when the stored value did not change.
  if (slot && slot->same_as(*p)) return {};
  slot = p;
  reapply_policies(p->name(), p, later);
  if (auto* o = observer()) o->on_policy_set(*this, *p);
  return {};
}

bool VHost::clear_policy(const std::string& name, std::unique_ptr<PolicyReapply>* later) {
  auto it = policies_.find(name);
  if (it == policies_.end()) return false;
  // Kept alive until every entity has let go of it.
  PolicyPtr gone = std::move(it->second);
  policies_.erase(it);
  reapply_policies(name, nullptr, later);
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

void VHost::reapply_policies(const std::string& changed, PolicyPtr added,
                             std::unique_ptr<PolicyReapply>* later) {
  auto job = std::make_unique<PolicyReapply>(broker_, name_, changed, std::move(added));
  if (later != nullptr) {
    *later = std::move(job);
  } else {
    job->run();
  }
}

PolicyReapply::PolicyReapply(Broker& broker, std::string vhost, std::string changed,
                             PolicyPtr added)
    : broker_(broker),
      vhost_(std::move(vhost)),
      changed_(std::move(changed)),
      added_(std::move(added)) {}

bool PolicyReapply::step() {
  VHost* vh = broker_.find_vhost(vhost_);
  if (vh == nullptr) return false;
  // Only entities that held the changed policy, or that the new version matches, can see a
  // different winner: the others skip the full selection (one regex match each).
  auto concerned = [&](const PolicyPtr& current, const std::string& name, bool kind_ok) {
    if (current && current->name() == changed_) return true;
    return added_ && kind_ok && added_->matches_name(name);
  };
  if (!in_queues_) {
    const auto& xs = vh->exchanges_;
    auto it = key_ ? xs.upper_bound(*key_) : xs.begin();
    if (it != xs.end()) {
      key_ = it->first;
      Exchange& x = *it->second;
      bool kind_ok = added_ && added_->apply_to() != PolicyApplyTo::kQueues;
      if (concerned(x.policy(), it->first, kind_ok)) {
        PolicyPtr p = select_exchange_policy(vh->policies_, it->first);
        if (p != x.policy()) x.set_policy(std::move(p));
      }
      return true;
    }
    in_queues_ = true;
    key_.reset();
  }
  const auto& qs = vh->queues_;
  auto it = key_ ? qs.upper_bound(*key_) : qs.begin();
  if (it == qs.end()) return false;
  key_ = it->first;
  // Enforcing new limits dead-letters messages, which routes into other queues and may change
  // the map: hold the queue, not the iterator.
  QueuePtr q = it->second;
  bool kind_ok = added_ && added_->apply_to() != PolicyApplyTo::kExchanges &&
                 added_->applicable_to_queue(q->args().quorum);
  if (concerned(q->policy(), q->name(), kind_ok)) {
    PolicyPtr p = select_queue_policy(vh->policies_, q->name(), q->args().quorum);
    if (p != q->policy()) vh->apply_queue_policy(*q, std::move(p));
  }
  return true;
}

}  // namespace pulse::broker
