#include "pulse/guardian_run/notice_log.h"

#include <algorithm>

#include "pulse/guardian/notice_text.h"

namespace pulse::guardian {

// A log that keeps nothing would still hand out ids, but the UI would show nothing at all.
NoticeLog::NoticeLog(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}

void NoticeLog::send(const Notice& notice) {
  entries_.push_back(LoggedNotice{next_id_++, notice});
  while (entries_.size() > capacity_) entries_.pop_front();
}

nlohmann::json NoticeLog::to_json(uint64_t after, size_t limit) const {
  nlohmann::json out = nlohmann::json::array();
  // Ids are consecutive, so the first one above `after` is found by arithmetic.
  size_t skip = 0;
  if (!entries_.empty() && after >= entries_.front().id) {
    skip =
        static_cast<size_t>(std::min<uint64_t>(after - entries_.front().id + 1, entries_.size()));
  }
  for (size_t i = skip; i < entries_.size() && out.size() < limit; ++i) {
    nlohmann::json j = notice_json(entries_[i].notice);
    j["id"] = entries_[i].id;
    j["routing_key"] = notice_routing_key(entries_[i].notice);
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace pulse::guardian
