#pragma once
// Recycled messages for the publish path, so that steady publishing allocates nothing per
// message. A message released to the pool keeps the capacity of its strings (exchange, routing
// key, properties, and a body of up to kMaxKeptBody bytes), so the next publish fills it in
// place; its shared_ptr control block is recycled too (base/recycling_allocator.h). The pool is per
// thread and bounded (kMaxCached messages): a message released on another thread, or to a full
// pool, is freed.
#include <cstddef>
#include <memory>

#include "broker/message.h"

namespace pulse::broker {

inline constexpr size_t kMaxCachedMessages = 4096;
inline constexpr size_t kMaxKeptBody = 16 * 1024;
inline constexpr size_t kMaxCachedBodyBytes = 8 << 20;

// An empty message, recycled when one is available on this thread.
std::shared_ptr<Message> make_pooled_message();

// Messages waiting for reuse on this thread (for tests and metrics).
size_t pooled_messages();

}  // namespace pulse::broker
