#include "http/chunked.h"

#include <memory>

namespace pulse::http {

void run_sliced(Scheduler& s, std::function<bool()> step, std::function<void()> finished) {
  struct Job {
    Scheduler& s;
    std::function<bool()> step;
    std::function<void()> finished;
  };
  auto job = std::make_shared<Job>(Job{s, std::move(step), std::move(finished)});
  auto slice = std::make_shared<std::function<void()>>();
  // The slice re-posts itself through a weak reference: a pending post owns the job, the job
  // does not own itself.
  *slice = [job, weak = std::weak_ptr<std::function<void()>>(slice)]() {
    auto until = std::chrono::steady_clock::now() + kSliceBudget;
    do {
      if (!job->step()) {
        job->finished();
        return;
      }
    } while (std::chrono::steady_clock::now() < until);
    if (auto self = weak.lock()) job->s.post([self] { (*self)(); });
  };
  (*slice)();
}

void answer_from_worker(Scheduler& s, std::function<void(Response)> respond,
                        std::function<Response()> make) {
  s.offload([&s, respond = std::move(respond), make = std::move(make)] {
    auto r = std::make_shared<Response>(make());
    s.post([r, respond] { respond(std::move(*r)); });
  });
}

broker::VHost* VhostWalk::vhost(broker::Broker& b) {
  if (ended_) return nullptr;
  if (vhost_) {
    if (broker::VHost* vh = b.find_vhost(*vhost_)) return vh;
  }
  return next_vhost(b);
}

broker::VHost* VhostWalk::next_vhost(broker::Broker& b) {
  const auto& vhosts = b.vhosts();
  auto it = vhost_ ? vhosts.upper_bound(*vhost_) : vhosts.begin();
  while (it != vhosts.end() && !keep_(it->first)) ++it;
  key_.reset();
  if (it == vhosts.end()) {
    ended_ = true;
    return nullptr;
  }
  vhost_ = it->first;
  return it->second.get();
}

}  // namespace pulse::http
