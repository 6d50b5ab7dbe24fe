#pragma once
// The notices kept for the UI and the API (issue 14: "a list kept for the UI"): the last
// `capacity` notices, each with an id that only grows, so a reader can ask for what came after
// the last one it saw. Lives with the runner, on its thread (pulsed: the event loop, where the
// management API will read it too), so it takes no lock.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>

#include <nlohmann/json.hpp>

#include "pulse/guardian/notice_sink.h"

namespace pulse::guardian {

struct LoggedNotice {
  uint64_t id = 0;  // 1, 2, 3, ... in the order the notices were sent
  Notice notice;
};

class NoticeLog : public NoticeSink {
 public:
  static constexpr size_t kDefaultCapacity = 1000;
  explicit NoticeLog(size_t capacity = kDefaultCapacity);

  void send(const Notice& notice) override;

  // Oldest first; at most `capacity` of them.
  const std::deque<LoggedNotice>& entries() const { return entries_; }
  // The id of the last notice sent (0: none yet), also after older ones were dropped.
  uint64_t last_id() const { return next_id_ - 1; }
  size_t capacity() const { return capacity_; }

  // The kept notices with an id above `after`, oldest first, at most `limit` (the oldest
  // ones): each notice_json() with its "id" and "routing_key" added.
  nlohmann::json to_json(uint64_t after = 0,
                         size_t limit = std::numeric_limits<size_t>::max()) const;

 private:
  size_t capacity_;
  uint64_t next_id_ = 1;
  std::deque<LoggedNotice> entries_;
};

}  // namespace pulse::guardian
