#pragma once
// The data directory: its layout version, an exclusive lock, and where everything lives.
//
//   VERSION            "pulse-data-layout <n>\n", written last at initialisation
//   LOCK               flock()ed while a pulsed uses the directory
//   definitions.db     DefinitionsStore (+ -wal, -shm)
//   queues/<id>/       one QueueLog per durable queue, <id> = its definitions row id
//   paging/<n>/        paging-only QueueLogs of non-durable queues, wiped at every start
//
// Opening a directory of another layout version, one that is not empty but has no VERSION,
// or one whose definitions database is missing is refused with a message saying why; nothing
// is ever reset silently. Used at start-up, from the thread that builds the broker.
#include <cstdint>
#include <memory>
#include <string>

#include "base/result.h"
#include "store/definitions_store.h"

namespace pulse::store {

class DataDir {
 public:
  static constexpr int kLayoutVersion = 1;

  // Initialises an absent or empty directory; otherwise validates it.
  static Result<std::unique_ptr<DataDir>> open(const std::string& path);
  ~DataDir();  // releases the lock

  const std::string& path() const { return path_; }
  std::string definitions_path() const { return path_ + "/definitions.db"; }
  std::string queues_path() const { return path_ + "/queues"; }
  std::string queue_dir(uint64_t queue_id) const;
  bool initialised_now() const { return fresh_; }  // created by this open()

  Result<std::unique_ptr<DefinitionsStore>> open_definitions() const;

 private:
  DataDir(std::string path, int lock_fd) : path_(std::move(path)), lock_fd_(lock_fd) {}
  std::string path_;
  int lock_fd_;
  bool fresh_ = false;
};

}  // namespace pulse::store
