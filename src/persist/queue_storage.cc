#include "persist/queue_storage.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "base/log.h"
#include "broker/stored_message.h"
#include "broker/vhost.h"
#include "persist/log_queue_store.h"
#include "store/file.h"

namespace pulse::persist {

QueueStorage::QueueStorage(const store::DataDir& dir, broker::Broker& broker, Post post,
                           store::QueueLogOptions options)
    : queues_path_(dir.queues_path()),
      paging_path_(dir.path() + "/paging"),
      data_path_(dir.path()),
      broker_(broker),
      post_(std::move(post)),
      options_(options),
      thread_(std::make_unique<store::StorageThread>(post_)) {}

QueueStorage::~QueueStorage() {
  thread_.reset();  // finishes every sync already handed over
}

namespace {
constexpr const char* kCleanMarker = "/clean_shutdown";
}  // namespace

Status QueueStorage::prepare(const std::set<uint64_t>& durable_queue_ids) {
  // Delivery marks are not synced per delivery (a hint, see queue_log.h), so after a crash any
  // recovered message may have been delivered: like RabbitMQ, all come back redelivered. The
  // marker goes before anything else is written, and durably, so a crash during this run is
  // seen by the next one.
  const std::string marker = data_path_ + kCleanMarker;
  unclean_ = !store::exists(marker);
  if (!unclean_) {
    if (::unlink(marker.c_str()) != 0) return store::io_error("remove", marker, errno);
    if (auto s = store::sync_dir(data_path_); !s) return s;
  } else if (!durable_queue_ids.empty()) {  // a new data directory has no marker either
    spdlog::warn("the last run did not stop cleanly: recovered messages are marked redelivered");
  }
  // Paged messages of non-durable queues die with the process that paged them.
  if (auto s = store::remove_all(paging_path_); !s) return s;
  if (auto s = store::make_dirs(paging_path_); !s) return s;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(queues_path_, ec)) {
    const std::string name = e.path().filename().string();
    uint64_t id = 0;
    bool numeric = !name.empty() && std::all_of(name.begin(), name.end(), ::isdigit);
    if (numeric) id = std::stoull(name);
    if (numeric && durable_queue_ids.count(id)) continue;
    spdlog::warn("removing message directory {} of a queue that no longer exists",
                 e.path().string());
    if (auto s = store::remove_all(e.path().string()); !s) return s;
  }
  if (ec) return store::io_error("list", queues_path_, ec.value());
  return ok_status();
}

Status QueueStorage::attach_durable(broker::Queue& q, uint64_t id) {
  if (q.store()) return ok_status();
  const std::string dir = queues_path_ + "/" + std::to_string(id);
  if (!store::exists(dir)) {
    q.attach_store(std::make_unique<LogQueueStore>(*this, dir, true));
    return ok_status();
  }
  std::vector<uint64_t> drop;
  size_t undecodable = 0, kept = 0;
  uint64_t kept_bytes = 0;
  auto log = store::QueueLog::open(dir, options_, [&](const store::RecoveredMessage& r) {
    auto h = broker::peek_stored_message(r.payload);
    if (!h) ++undecodable;
    // Transient messages were only paged out: they do not outlive the process.
    if (!h || !h->keep) {
      drop.push_back(r.seq);
      return;
    }
    q.recover_message(r.seq, h->priority, h->body_bytes);
    ++kept;
    kept_bytes += h->body_bytes;
  });
  if (!log) return std::move(log).error();
  for (uint64_t seq : drop) (void)(*log)->ack(seq);
  const store::RecoveryReport& rep = (*log)->recovery_report();
  for (const auto& p : rep.problems) spdlog::warn("{}: {}", q.describe(), p);
  if (undecodable) spdlog::warn("{}: {} undecodable messages dropped", q.describe(), undecodable);
  if (kept) {
    spdlog::info("recovered {} messages ({} body bytes, {} delivered before) of {} in {:.3f} s",
                 kept, kept_bytes, rep.delivered_messages, q.describe(), rep.seconds);
  }
  // Everything recovered after a crash counts as delivered before (see prepare()).
  const uint64_t suspect_below = unclean_ ? (*log)->next_seq() : 0;
  auto s = std::make_unique<LogQueueStore>(*this, dir, true, std::move(*log), suspect_below);
  if (!drop.empty()) mark_dirty(s.get());
  q.attach_store(std::move(s));
  q.finish_recovery();
  return ok_status();
}

std::unique_ptr<broker::QueueStore> QueueStorage::open_paging_store(broker::Queue&) {
  return std::make_unique<LogQueueStore>(
      *this, paging_path_ + "/" + std::to_string(next_paging_id_++), false);
}

Status QueueStorage::watch_definitions_wal(const std::string& path) {
  auto f = store::File::open(path, O_RDWR);
  if (!f) return std::move(f).error();
  wal_ = std::move(*f);
  return ok_status();
}

void QueueStorage::definitions_changed() {
  if (!wal_) return;
  wal_dirty_ = true;
  schedule_flush();
}

void QueueStorage::mark_dirty(LogQueueStore* s) {
  if (!s->dirty) {
    s->dirty = true;
    dirty_.push_back(s);
  }
  schedule_flush();
}

void QueueStorage::schedule_flush() {
  // While a round is syncing, writes wait in the logs' buffers: the completion flushes them.
  // A message acked meanwhile is then never written (the usual case with a consumer that
  // keeps up), and the next round takes everything that arrived during this one.
  if (in_flight_ > 0) return;
  if (!flush_posted_) {
    flush_posted_ = true;
    // After the current turn: every publish read in it shares one flush and one sync.
    post_([this] { flush(); });
  }
}

void QueueStorage::forget(LogQueueStore* s) {
  if (!s->dirty) return;
  s->dirty = false;
  std::erase(dirty_, s);
}

void QueueStorage::flush() {
  flush_posted_ = false;
  std::vector<std::shared_ptr<store::File>> files;
  bool ok = true;
  bool failed = false;
  for (LogQueueStore* s : dirty_) {
    s->dirty = false;
    if (!s->log()) continue;
    auto f = s->log()->flush();
    if (!f) {
      if (failing_rounds_ == 0) {
        spdlog::error(
            "message store flush failed: {}; publishes are nacked until writes work "
            "again",
            f.error().text);
      }
      failed = true;
      if (s->durable()) ok = false;
      continue;
    }
    // Paged-only messages need no sync: they do not survive a restart anyway.
    if (s->durable()) files.insert(files.end(), f->begin(), f->end());
  }
  dirty_.clear();
  if (failed) {
    ++failing_rounds_;
  } else if (failing_rounds_ > 0) {
    spdlog::info("message store writes work again after {} failed flush round(s)", failing_rounds_);
    failing_rounds_ = 0;
  }
  if (wal_dirty_) {
    files.push_back(wal_);
    wal_dirty_ = false;
  }
  broker::Durability& d = broker_.durability();
  const uint64_t epoch = d.seal();
  if (!ok) {
    d.completed(epoch, false);
    return;
  }
  // Even an epoch without files goes through the thread when syncs are in flight, so
  // completions stay in epoch order.
  if (files.empty() && in_flight_ == 0) {
    d.completed(epoch, true);
    return;
  }
  ++in_flight_;
  thread_->submit({std::move(files), [this, epoch](const Status& s) {
                     --in_flight_;
                     if (!s) spdlog::error("message store sync failed: {}", s.error().text);
                     broker_.durability().completed(epoch, bool(s));
                     // Straight away: the publishers' window is waiting on this round.
                     if (in_flight_ == 0 && (!dirty_.empty() || wal_dirty_)) flush();
                   }});
}

void QueueStorage::sync_now() {
  flush();
  thread_->drain();
}

Status QueueStorage::mark_clean_shutdown() {
  const std::string marker = data_path_ + kCleanMarker;
  static constexpr uint8_t kText[] = "pulsed stopped cleanly\n";
  return store::write_file_atomic(marker, std::span<const uint8_t>(kText, sizeof kText - 1));
}

}  // namespace pulse::persist
