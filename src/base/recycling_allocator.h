#pragma once
// An allocator for the containers a message passes through on the event loop (a queue's
// std::deque of messages, a channel's unacknowledged deliveries). std::deque frees a 512-byte
// block every few elements popped at the front and allocates one every few pushed at the back,
// so a queue in steady state would call malloc and free all the time; with this allocator the
// freed blocks are kept on this thread (a few per size) and handed out again.
#include <array>
#include <cstddef>
#include <new>

namespace pulse {

namespace recycling_detail {

inline constexpr size_t kClasses = 4;  // distinct block sizes kept per thread
inline constexpr size_t kKeep = 64;    // blocks kept per size
// Deque blocks are about 512 bytes; smaller allocations (a deque's map of block pointers) are
// rare and would take the few size classes.
inline constexpr size_t kMinBytes = 256, kMaxBytes = 1024;

struct Class {
  size_t size = 0;
  size_t count = 0;
  std::array<void*, kKeep> blocks{};
};

struct Cache {
  std::array<Class, kClasses> classes{};
  Cache() { alive() = true; }
  ~Cache() {
    alive() = false;
    for (Class& c : classes)
      for (size_t i = 0; i < c.count; ++i) ::operator delete(c.blocks[i]);
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
  if (bytes < kMinBytes || bytes > kMaxBytes) return ::operator new(bytes);
  Cache& cache = Cache::get();
  for (Class& c : cache.classes) {
    if (c.size == bytes && c.count > 0) return c.blocks[--c.count];
  }
  return ::operator new(bytes);
}

inline void deallocate(void* p, size_t bytes) {
  if (bytes >= kMinBytes && bytes <= kMaxBytes && Cache::alive()) {
    Cache& cache = Cache::get();
    for (Class& c : cache.classes) {
      if (c.size == 0) c.size = bytes;
      if (c.size != bytes) continue;
      if (c.count < kKeep) {
        c.blocks[c.count++] = p;
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
