#pragma once
// Long management work (a listing of 100k queues, a definitions export or import) must not
// stall message flow (design §2): it runs on the loop in slices of about a millisecond,
// yielding to pending I/O between them, and pure post-processing (sorting, filtering,
// serialising, parsing) runs on a worker thread. Broker state is only touched on the loop.
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "broker/broker.h"
#include "http/message.h"

namespace pulse::http {

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // Runs `fn` on the loop thread after the I/O that is already pending.
  virtual void post(std::function<void()> fn) = 0;
  // Runs `fn` on the worker thread; it must not touch broker state.
  virtual void offload(std::function<void()> fn) = 0;
};

// Runs everything at once on the calling thread (no loop to yield to).
class InlineScheduler : public Scheduler {
 public:
  void post(std::function<void()> fn) override { fn(); }
  void offload(std::function<void()> fn) override { fn(); }
};

inline constexpr std::chrono::microseconds kSliceBudget{1000};

// Calls `step` until it returns false (nothing left), in slices of kSliceBudget, then calls
// `finished` on the loop.
void run_sliced(Scheduler& s, std::function<bool()> step, std::function<void()> finished);

// Runs `make` on the worker (pure work: sorting, serialising) and answers with its result on
// the loop.
void answer_from_worker(Scheduler& s, std::function<void(Response)> respond,
                        std::function<Response()> make);

// A resumable walk over the objects of the vhosts a request may see, in (vhost, name) order.
// Between slices it keeps only names and resumes after the last one, so objects created or
// deleted meanwhile are either listed or not, and nothing dangles.
class VhostWalk {
 public:
  using Keep = std::function<bool(const std::string& vhost)>;
  explicit VhostWalk(Keep keep) : keep_(std::move(keep)) {}

  // Visits the next entry of `map_of(vhost)` (an ordered map keyed by name); false at the end.
  template <class MapOf, class Visit>
  bool step(broker::Broker& b, MapOf&& map_of, Visit&& visit) {
    for (broker::VHost* vh = vhost(b); vh != nullptr; vh = next_vhost(b)) {
      const auto& m = map_of(*vh);
      auto it = key_ ? m.upper_bound(*key_) : m.begin();
      if (it == m.end()) continue;
      key_ = it->first;
      visit(*vh, it->first, it->second);
      return true;
    }
    return false;
  }

  // For walks of their own shape: the current vhost (the first at the start, the next when it
  // went away), and moving on to the next one; nullptr at the end.
  broker::VHost* vhost(broker::Broker& b);
  broker::VHost* next_vhost(broker::Broker& b);

 private:
  Keep keep_;
  std::optional<std::string> vhost_;  // current vhost; unset before the first
  std::optional<std::string> key_;    // last name visited in it
  bool ended_ = false;
};

}  // namespace pulse::http
