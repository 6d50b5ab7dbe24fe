#pragma once
// Where the guardian's notices go (issue 14: email, the exchange exchange/pulse/guardian, a
// list kept for the UI). The runner hands every notice to each of its sinks in order, on its own
// thread; a sink must not block that thread on the network for long (the SMTP sink queues and
// sends from a thread of its own) and must not throw: a sink that cannot deliver logs why.
#include "pulse/guardian/policy.h"

namespace pulse::guardian {

class NoticeSink {
 public:
  virtual ~NoticeSink() = default;
  virtual void send(const Notice& notice) = 0;
};

}  // namespace pulse::guardian
