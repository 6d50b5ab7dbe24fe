#include "persist/log_queue_store.h"

#include "base/log.h"
#include "broker/stored_message.h"
#include "persist/queue_storage.h"
#include "store/file.h"

namespace pulse::persist {

LogQueueStore::LogQueueStore(QueueStorage& owner, std::string dir, bool durable,
                             std::unique_ptr<store::QueueLog> log, uint64_t suspect_below)
    : owner_(owner),
      dir_(std::move(dir)),
      durable_(durable),
      log_(std::move(log)),
      suspect_below_(suspect_below) {}

LogQueueStore::~LogQueueStore() {
  owner_.forget(this);
}

Status LogQueueStore::open_log() {
  if (log_) return ok_status();
  auto log = store::QueueLog::open(dir_, owner_.options());
  if (!log) return std::move(log).error();
  log_ = std::move(*log);
  return ok_status();
}

void LogQueueStore::touched() {
  owner_.mark_dirty(this);
}

void LogQueueStore::report(const Status& s, const char* what) {
  // A failing disk would otherwise log once per message.
  if (s || failed_logged_) return;
  failed_logged_ = true;
  spdlog::error("message store {}: {} failed: {}", dir_, what, s.error().text);
}

Result<uint64_t> LogQueueStore::append(const broker::Message& msg,
                                       std::optional<broker::TimePoint> expires_at, bool keep) {
  if (auto s = open_log(); !s) {
    report(s, "open");
    return std::move(s).error();
  }
  scratch_.clear();
  broker::encode_stored_message(scratch_, msg, expires_at, keep);
  auto seq = log_->append(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(scratch_.data()), scratch_.size()));
  if (scratch_.capacity() > (1u << 20)) std::string().swap(scratch_);
  if (!seq) {
    report(Status(seq.error()), "append");
    return std::move(seq).error();
  }
  touched();
  return *seq;
}

Result<broker::StoredMessage> LogQueueStore::read(uint64_t seq) {
  if (!log_) return store::store_error("read: message store " + dir_ + " is not open");
  auto bytes = log_->read(seq);
  if (!bytes) return std::move(bytes).error();
  auto d = broker::decode_stored_message(*bytes);
  if (!d) {
    return store::store_error("read: undecodable message " + std::to_string(seq) + " in " + dir_);
  }
  broker::StoredMessage m;
  m.msg = std::move(d->msg);
  m.expires_at = d->expires_at;
  m.delivered = seq < suspect_below_ || log_->delivered(seq);
  return m;
}

void LogQueueStore::mark_delivered(uint64_t seq) {
  if (!log_) return;
  report(log_->mark_delivered(seq), "delivery mark");
  touched();
}

void LogQueueStore::ack(uint64_t seq) {
  if (!log_) return;
  report(log_->ack(seq), "ack");
  touched();
}

void LogQueueStore::purge() {
  if (!log_) return;
  report(log_->purge(durable_), "purge");
}

void LogQueueStore::destroy() {
  owner_.forget(this);
  if (log_) {
    report(log_->destroy(), "delete");
    log_.reset();
  } else if (store::exists(dir_)) {
    report(store::remove_all(dir_), "delete");
  }
}

}  // namespace pulse::persist
