#include "broker/message_pool.h"

#include <vector>

#include "base/recycling_allocator.h"

namespace pulse::broker {

namespace {

// Checked before touching t_pool: false before the pool exists on this thread and after it
// was destroyed at thread exit (a trivially destructible flag stays readable then).
thread_local bool t_pool_alive = false;

struct Pool {
  std::vector<Message*> messages;
  size_t body_bytes = 0;  // body capacity held by `messages`

  Pool() {
    messages.reserve(kMaxCachedMessages);
    t_pool_alive = true;
  }
  ~Pool() {
    t_pool_alive = false;
    for (Message* m : messages) delete m;
  }
};

thread_local Pool t_pool;

struct Recycle {
  void operator()(Message* m) const {
    if (t_pool_alive && t_pool.messages.size() < kMaxCachedMessages &&
        t_pool.body_bytes + m->body.capacity() <= kMaxCachedBodyBytes &&
        m->clear_for_reuse(kMaxKeptBody)) {
      t_pool.body_bytes += m->body.capacity();
      t_pool.messages.push_back(m);
      return;
    }
    delete m;
  }
};

}  // namespace

std::shared_ptr<Message> make_pooled_message() {
  Message* m = nullptr;
  if (!t_pool.messages.empty()) {
    m = t_pool.messages.back();
    t_pool.messages.pop_back();
    t_pool.body_bytes -= m->body.capacity();
  } else {
    m = new Message();
  }
  // The control block comes from the thread's RecyclingAllocator cache.
  return std::shared_ptr<Message>(m, Recycle{}, RecyclingAllocator<Message>{});
}

size_t pooled_messages() {
  return t_pool_alive ? t_pool.messages.size() : 0;
}

}  // namespace pulse::broker
