#include "broker/message_pool.h"

#include <new>
#include <vector>

namespace pulse::broker {

namespace {

// Checked before touching t_pool: false before the pool exists on this thread and after it
// was destroyed at thread exit (a trivially destructible flag stays readable then).
thread_local bool t_pool_alive = false;

struct Pool {
  std::vector<Message*> messages;
  std::vector<void*> blocks;  // control blocks, all of block_size bytes
  size_t block_size = 0;
  size_t body_bytes = 0;  // body capacity held by `messages`

  Pool() {
    messages.reserve(kMaxCachedMessages);
    blocks.reserve(kMaxCachedMessages);
    t_pool_alive = true;
  }
  ~Pool() {
    t_pool_alive = false;
    for (Message* m : messages) delete m;
    for (void* b : blocks) ::operator delete(b);
  }
};

thread_local Pool t_pool;

// Allocates shared_ptr control blocks from this thread's pool.
template <typename T>
struct BlockAlloc {
  using value_type = T;
  BlockAlloc() = default;
  template <typename U>
  BlockAlloc(const BlockAlloc<U>&) {}  // NOLINT: rebinding must be implicit

  T* allocate(size_t n) {
    if (n == 1 && t_pool_alive && t_pool.block_size == sizeof(T) && !t_pool.blocks.empty()) {
      void* b = t_pool.blocks.back();
      t_pool.blocks.pop_back();
      return static_cast<T*>(b);
    }
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* p, size_t n) {
    if (n == 1 && t_pool_alive && t_pool.blocks.size() < kMaxCachedMessages &&
        (t_pool.block_size == 0 || t_pool.block_size == sizeof(T))) {
      t_pool.block_size = sizeof(T);
      t_pool.blocks.push_back(p);
      return;
    }
    ::operator delete(p);
  }
  template <typename U>
  bool operator==(const BlockAlloc<U>&) const {
    return true;
  }
};

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
  return std::shared_ptr<Message>(m, Recycle{}, BlockAlloc<Message>{});
}

size_t pooled_messages() {
  return t_pool_alive ? t_pool.messages.size() : 0;
}

}  // namespace pulse::broker
