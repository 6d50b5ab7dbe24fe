#pragma once
// Helpers shared by the exchange, queue and binding controllers: the acting user as the broker
// operations' principal, message publishing and fetching (exchange /publish, queue /get).
#include <functional>
#include <optional>
#include <string>

#include "auth/auth_store.h"
#include "broker/principal.h"
#include "broker/vhost.h"
#include "http/api.h"

namespace pulse::http {

// The request's user acting in `vh` through the broker operations (broker/operations.h), as
// RabbitMQ's management plugin acts through rabbit_channel's methods: one per request, so
// permission changes apply to the next request. No connection: exclusive queues are out of
// reach.
broker::Principal principal(const Call& c, broker::VHost& vh);

// POST /api/exchanges/{vhost}/{name}/publish: {"routed": bool}.
Response publish_message(const Call& c, broker::VHost& vh, const std::string& exchange);
// POST /api/queues/{vhost}/{name}/get.
Response get_messages(const Call& c, broker::VHost& vh, const std::string& queue);

}  // namespace pulse::http

namespace pulse::http {

// The bindings of `vh` whose source is `source` (all when null) as RabbitMQ lists them: the
// implicit default-exchange binding of each queue first (source "", routing key = queue
// name), then the exchanges' bindings in exchange-name order. The implicit ones are made one
// at a time, the vhost's lists are not copied.
void for_each_binding(broker::VHost& vh, const std::string* source,
                      const std::function<void(const broker::Binding&)>& fn);

// The bindings of `vh` from `source` (all when null) to `dest`, in for_each_binding's order,
// without making the implicit binding of every other queue (100k queues).
void for_each_binding_to(broker::VHost& vh, const std::string* source,
                         const broker::Destination& dest,
                         const std::function<void(const broker::Binding&)>& fn);

// for_each_binding's order as a resumable walk over the vhosts a request may see, for chunked
// listings and exports; `implicit` false leaves out the default-exchange bindings (as exports do).
// Resuming inside an exchange's bindings goes by position: a binding added or removed there
// between two slices may shift the listing by one.
class BindingsWalk {
 public:
  BindingsWalk(VhostWalk::Keep keep, bool implicit)
      : vhosts_(std::move(keep)), implicit_(implicit) {}
  // Visits the next binding; false at the end.
  bool step(broker::Broker& b,
            const std::function<void(broker::VHost&, const broker::Binding&)>& visit);

 private:
  VhostWalk vhosts_;
  bool implicit_;
  std::optional<std::string> at_;   // the vhost the cursor below is in
  bool in_exchanges_ = false;       // past the implicit bindings of `at_`
  std::optional<std::string> key_;  // last queue, or current exchange
  size_t index_ = 0;                // next binding of that exchange
};

}  // namespace pulse::http
