#pragma once
// broker::QueueStore over one store::QueueLog (see queue_storage.h). The log is opened on the
// first write, so declaring a durable queue costs no file system work.
#include <memory>
#include <string>

#include "broker/queue_store.h"
#include "store/queue_log.h"

namespace pulse::persist {

class QueueStorage;

class LogQueueStore : public broker::QueueStore {
 public:
  // Messages below `suspect_below` count as delivered before (recovered after a crash).
  LogQueueStore(QueueStorage& owner, std::string dir, bool durable,
                std::unique_ptr<store::QueueLog> log = nullptr, uint64_t suspect_below = 0);
  ~LogQueueStore() override;

  bool durable() const override { return durable_; }
  Result<uint64_t> append(const broker::Message& msg, std::optional<broker::TimePoint> expires_at,
                          bool keep) override;
  Result<broker::StoredMessage> read(uint64_t seq) override;
  void mark_delivered(uint64_t seq) override;
  void ack(uint64_t seq) override;
  void purge() override;
  void destroy() override;

  store::QueueLog* log() { return log_.get(); }
  bool dirty = false;  // queued in the owner's dirty list

 private:
  Status open_log();
  void touched();
  void report(const Status& s, const char* what);

  QueueStorage& owner_;
  std::string dir_;
  bool durable_;
  std::unique_ptr<store::QueueLog> log_;
  std::string scratch_;
  bool failed_logged_ = false;
  uint64_t suspect_below_ = 0;
};

}  // namespace pulse::persist
