#pragma once
// The translator's durable state in --state-dir (see README.md, "exactly once"):
//   pending/<id>.json  an input whose normalized outputs are not all published yet, written
//                      (fsync'd, atomic rename) before the input is acknowledged;
//   done.log           ids of inputs fully handled (published or given up), one per line,
//                      fsync'd before their pending file goes; the newest `keep` are kept, so
//                      a redelivered input is recognised and not published twice.
// An id is the SHA-256 of the input's routing key and body. Thread-safe: the consumer thread
// adds, the publishing thread takes and finishes.
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace pulse::translator {

struct PendingOutput {
  std::string routing_key;
  nlohmann::json payload;
  bool published = false;
};

struct Pending {
  std::string id;
  std::string input_key;  // for logs
  std::string log_url;
  int64_t received = 0;    // epoch seconds: the log wait counts from here
  int64_t next_check = 0;  // in memory only: checked again from this time on
  std::vector<PendingOutput> outputs;
};

std::string input_id(std::string_view routing_key, std::string_view body);

class Spool {
 public:
  // Creates the directory if needed and loads what a previous run left.
  static Result<std::unique_ptr<Spool>> open(const std::string& dir, size_t keep = 10000);

  bool seen(const std::string& id) const;  // pending or done
  size_t pending_count() const;
  Status add(Pending p);
  // Ids whose next check is due at `now`, oldest first.
  std::vector<std::string> due(int64_t now) const;
  std::optional<Pending> get(const std::string& id) const;
  void reschedule(const std::string& id, int64_t next_check);
  Status mark_published(const std::string& id, size_t output);
  // Records the id as done, then drops its pending file.
  Status finish(const std::string& id);

 private:
  Spool(std::string dir, size_t keep) : dir_(std::move(dir)), keep_(keep) {}
  Status load();
  Status write_pending(const Pending& p);
  Status append_done(const std::string& id);
  void remember_done(const std::string& id);

  std::string dir_;
  size_t keep_;
  mutable std::mutex mu_;
  std::map<std::string, Pending> pending_;
  std::deque<std::string> done_order_;
  std::set<std::string> done_;
  size_t done_lines_ = 0;
};

}  // namespace pulse::translator
