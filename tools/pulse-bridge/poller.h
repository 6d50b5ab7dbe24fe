#pragma once
// The feed pollers (README.md): each source on a thread of its own, because the HTTP client
// (mgmt::HttpClient) blocks. A poll fetches, publishes what is new through the sink, waits for
// the confirms and only then moves its cursor, which is written to a file atomically (temporary
// file, fsync, rename, fsync of the directory): a restart neither skips nor repeats an item
// that was confirmed. Failures back off (pulse/backoff.h) and are logged once per run.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bridge_config.h"
#include "mgmt/http_client.h"
#include "sink.h"
#include "stats.h"

namespace pulse::bridge {

// The cursor file: written whole to "<path>.tmp", fsync'd, renamed over `path`, the directory
// fsync'd. Reading: null when the file does not exist; an error when it is damaged.
Status write_cursor(const std::string& path, const nlohmann::json& cursor);
Result<nlohmann::json> read_cursor(const std::string& path);

class Poller {
 public:
  // `cursor_path` empty: the cursor lives in memory only (--dry-run).
  Poller(const SourceConfig& source, std::string exchange, MessageSink& sink, SourceStats& stats,
         std::string cursor_path);
  virtual ~Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  // Reads the cursor and checks the URL; an error stops the start (exit 2).
  Status load();
  void start();
  // Stops after the poll under way (its confirms included); joins the thread.
  void stop();

 protected:
  // One poll. True: there is more to fetch at once (a page of a long backlog).
  virtual Result<bool> poll_once() = 0;
  virtual Status restore(const nlohmann::json& cursor) = 0;  // from the file (never null)
  virtual nlohmann::json cursor() const = 0;

  // Publishes and waits for every message's outcome.
  std::vector<Status> publish(std::vector<Outgoing> messages);
  Status save();

  const SourceConfig& source_;
  const std::string exchange_;
  SourceStats& stats_;
  std::unique_ptr<mgmt::HttpClient> client_;

 private:
  void run();

  MessageSink& sink_;
  std::string cursor_path_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// Each new item of an HTTP JSON feed, published once (json_feed).
class JsonFeedPoller : public Poller {
 public:
  using Poller::Poller;

 protected:
  Result<bool> poll_once() override;
  Status restore(const nlohmann::json& cursor) override;
  nlohmann::json cursor() const override;

 private:
  std::string etag_;
  std::string last_modified_;
  std::vector<std::string> seen_;  // ids of the last fetch that were published
  bool said_missing_ids_ = false;
};

// hg.mozilla.org's pushlog (hg_pushlog): json-pushes?version=2 -> exchange/hgpushes/v2.
class PushlogPoller : public Poller {
 public:
  using Poller::Poller;

 protected:
  Result<bool> poll_once() override;
  Status restore(const nlohmann::json& cursor) override;
  nlohmann::json cursor() const override;

 private:
  int64_t last_push_id_ = -1;
};

// The items of a feed body: the body itself when it is an array, else its `items_field`
// member ("items" when not configured). Error when there is no array.
Result<const nlohmann::json*> feed_items(const nlohmann::json& body,
                                         const std::string& items_field);
// An item's id: a string, or an integer as text; "" when missing.
std::string item_id(const nlohmann::json& item, const std::string& id_field);

// hg: the routing key of a repository URL (its path: "integration/mozilla-inbound").
std::string repo_routing_key(const std::string& repo_url);
// The messages of one json-pushes?version=2 reply: one changegroup.1 per push id above
// `after`, in id order, with those ids. Error when the reply is not a pushlog.
struct PushMessages {
  std::vector<int64_t> ids;
  std::vector<nlohmann::json> payloads;
  int64_t last_push_id = 0;
};
Result<PushMessages> pushlog_messages(const nlohmann::json& reply, const std::string& repo_url,
                                      int64_t after, bool full);

}  // namespace pulse::bridge
