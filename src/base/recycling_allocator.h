#pragma once
// An allocator for what a message passes through on the event loop: a queue's std::deque of
// messages, a channel's unacknowledged deliveries, a message's shared_ptr control block.
// std::deque frees a 512-byte block every few elements popped at the front and allocates one
// every few pushed at the back, so a queue in steady state would call malloc and free all the
// time; with this allocator freed blocks are kept on this thread, per size, and handed out again.
#include <array>
#include <cstddef>
#include <new>
#include <vector>

namespace pulse {

namespace recycling_detail {

inline constexpr size_t kClasses = 8;          // distinct block sizes kept per thread
inline constexpr size_t kKeepBytes = 1 << 20;  // kept per size
inline constexpr size_t kMaxBytes = 1024;      // larger blocks are not kept

struct Class {
  size_t size = 0;
  std::vector<void*> blocks;
};

struct Cache {
  std::array<Class, kClasses> classes{};
  Cache() { alive() = true; }
  ~Cache() {
    alive() = false;
    for (Class& c : classes)
      for (void* b : c.blocks) ::operator delete(b);
  }
  // False before this thread's cache exists and after it was destroyed at thread exit.
  static bool& alive() {
    thread_local bool a = false;
    return a;
  }
  static Cache& get() {
    thread_local Cache c;
    return c;
  }
};

inline void* allocate(size_t bytes) {
  if (bytes > kMaxBytes) return ::operator new(bytes);
  for (Class& c : Cache::get().classes) {
    if (c.size == bytes && !c.blocks.empty()) {
      void* b = c.blocks.back();
      c.blocks.pop_back();
      return b;
    }
  }
  return ::operator new(bytes);
}

inline void deallocate(void* p, size_t bytes) {
  if (bytes <= kMaxBytes && Cache::alive()) {
    for (Class& c : Cache::get().classes) {
      if (c.size == 0) c.size = bytes;
      if (c.size != bytes) continue;
      if (c.blocks.size() * bytes < kKeepBytes) {
        c.blocks.push_back(p);
        return;
      }
      break;
    }
  }
  ::operator delete(p);
}

}  // namespace recycling_detail

template <typename T>
struct RecyclingAllocator {
  static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
  using value_type = T;
  RecyclingAllocator() = default;
  template <typename U>
  RecyclingAllocator(const RecyclingAllocator<U>&) {}  // NOLINT: rebinding is implicit

  T* allocate(size_t n) { return static_cast<T*>(recycling_detail::allocate(n * sizeof(T))); }
  void deallocate(T* p, size_t n) { recycling_detail::deallocate(p, n * sizeof(T)); }

  template <typename U>
  bool operator==(const RecyclingAllocator<U>&) const {
    return true;
  }
};

}  // namespace pulse
