#pragma once
// Message storage for pulsed: broker::QueueStore over store::QueueLog, group commit through a
// StorageThread, and recovery of durable queues' messages at start-up.
//
//   <data>/queues/<id>/  a durable queue's log (id = its row in the definitions database);
//                        created on the first write, recovered at start-up
//   <data>/paging/<n>/   paging-only logs of non-durable queues; wiped at every start
//   <data>/clean_shutdown written after the last sync of an orderly stop, removed at start: a
//                        start without it follows a crash
//
// Runs on the event loop, except the fdatasyncs, which the StorageThread does. Stores mark
// themselves dirty on every write; one flush per loop turn writes every dirty log out, seals
// the broker's write epoch and hands the files to the StorageThread, whose completion (posted
// back to the loop) releases the publisher confirms of that epoch.
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/result.h"
#include "broker/broker.h"
#include "broker/queue.h"
#include "broker/queue_store.h"
#include "store/data_dir.h"
#include "store/queue_log.h"
#include "store/storage_thread.h"

namespace pulse::persist {

class LogQueueStore;

class QueueStorage : public broker::MessageStorage {
 public:
  using Post = std::function<void(std::function<void()>)>;

  // `post` runs a function on the event loop later (asio::post); it must be callable from any
  // thread.
  QueueStorage(const store::DataDir& dir, broker::Broker& broker, Post post,
               store::QueueLogOptions options = {});
  ~QueueStorage() override;

  // Start-up, before recovery: wipes paging leftovers and the message directories of queues
  // that are no longer defined (a crash between the delete and the removal), and finds out
  // whether the last run ended in a crash.
  Status prepare(const std::set<uint64_t>& durable_queue_ids);
  bool recovering_from_crash() const { return unclean_; }
  // Gives a durable queue its store; recovers the messages its directory holds.
  Status attach_durable(broker::Queue& q, uint64_t id);
  std::unique_ptr<broker::QueueStore> open_paging_store(broker::Queue& q) override;

  // The definitions database commits without fsync (synchronous=NORMAL); its WAL is synced
  // with the next group commit after every change instead, so a declare never waits for a
  // disk flush on the event loop, and a confirmed message's queue is as durable as it is.
  Status watch_definitions_wal(const std::string& path);
  void definitions_changed();

  // Writes out and syncs everything now (shutdown), then waits for the storage thread.
  void sync_now();
  // After the final sync_now() of an orderly stop: the next start recovers without suspicion.
  Status mark_clean_shutdown();

  // Store side.
  void mark_dirty(LogQueueStore* s);
  void forget(LogQueueStore* s);
  const store::QueueLogOptions& options() const { return options_; }

 private:
  void flush();
  void schedule_flush();

  std::string queues_path_, paging_path_, data_path_;
  bool unclean_ = false;
  broker::Broker& broker_;
  Post post_;
  store::QueueLogOptions options_;
  std::vector<LogQueueStore*> dirty_;
  bool flush_posted_ = false;
  std::shared_ptr<store::File> wal_;
  bool wal_dirty_ = false;
  size_t in_flight_ = 0;  // sync requests handed to the thread, not yet completed
  // Flush rounds that failed in a row (a full disk fails every round): logged at the first
  // and when writes work again, not once per round.
  uint64_t failing_rounds_ = 0;
  uint64_t next_paging_id_ = 1;
  std::unique_ptr<store::StorageThread> thread_;
};

}  // namespace pulse::persist
