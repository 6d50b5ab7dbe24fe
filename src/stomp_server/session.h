#pragma once
// One STOMP session: frames in (through the codec's Parser), broker operations, frames out, as
// RabbitMQ 3.10's rabbit_stomp_processor behaves over its one AMQP channel. Transport-neutral:
// bytes come in through input(), go out through a Transport, so TCP, TLS and WebSocket drive
// the same session. Runs on the broker's event-loop thread.
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "auth/auth_store.h"
#include "auth/failure_limiter.h"
#include "broker/broker.h"
#include "broker/consumer.h"
#include "broker/counters.h"
#include "broker/durability.h"
#include "broker/principal.h"
#include "broker/queue.h"
#include "server/asio.h"
#include "stomp/destination.h"
#include "stomp/negotiation.h"
#include "stomp/parser.h"
#include "stomp_server/options.h"
#include "stomp_server/transport.h"

namespace pulse::stomp_server {

// The vhost and user limits, checked by whoever counts every protocol's connections (the AMQP
// server): a CONNECT is a connection and the session's one channel.
struct LimitChecks {
  std::function<Status(const broker::VHost&, const std::string& user)> connection;
  std::function<Status(const std::string& user)> channel;
  // A memory or disk alarm is on: a session that SENDs is no longer read until it clears.
  std::function<bool()> alarmed;
};

struct SessionContext {
  boost::asio::io_context& io;
  broker::Broker& broker;
  auth::AuthStore& auth;
  auth::FailureLimiter& failures;
  const StompOptions& options;
  const LimitChecks* limits = nullptr;  // none when null
};

// Credentials the transport imposes on the session: CONNECT's login and passcode are then
// ignored (rabbitmq_stomp's force_default_creds), and the login is by `config`.
struct ForcedCredentials {
  std::optional<std::string> login;
  std::optional<std::string> passcode;
};

struct PeerInfo {
  boost::asio::ip::tcp::endpoint peer;
  boost::asio::ip::tcp::endpoint local;
  bool tls = false;
  // The management API's protocol name before the version: "STOMP", or "Web STOMP".
  std::string protocol_name = "STOMP";
  // Web-STOMP with web_stomp.use_http_auth: the upgrade request's Basic credentials, or
  // stomp.default_user's when it had no Authorization header.
  std::optional<ForcedCredentials> credentials;
};

enum class AckMode { auto_ack, client, client_individual };

struct Subscription {
  std::string tag;  // "T_<id>" or "Q_<destination>", RabbitMQ's consumer tag
  std::string dest_hdr;
  std::string description;  // "id='x'" / "destination='/queue/a'"
  AckMode ack = AckMode::auto_ack;
  broker::QueuePtr queue;
  broker::Consumer* consumer = nullptr;  // null once cancelled
  uint32_t prefetch = 0;
  uint64_t unacked = 0;
};

// An ERROR frame's two texts; `close` ends the session after it (RabbitMQ's amqp_death and a
// few protocol violations), otherwise the session goes on as RabbitMQ's does.
struct Failure {
  std::string message;
  std::string detail;
  bool close = false;
};
using Step = std::optional<Failure>;

class Session : public broker::ConsumerSink,
                public broker::SyncWaiter,
                public std::enable_shared_from_this<Session> {
 public:
  Session(SessionContext ctx, Transport& transport, uint64_t id, PeerInfo peer);
  ~Session() override;

  // Arms the login timeout.
  void start();
  // Bytes from the peer, any split.
  void input(std::string_view bytes);
  // The transport is gone: subscriptions end, unacknowledged messages are requeued.
  void closed();
  // The transport wrote its backlog: deliveries resume.
  void output_drained();
  // A SEND met a resource alarm: the transport stops reading until unblock() (the alarm
  // cleared), as RabbitMQ's STOMP reader does. The receive heart-beat check is paused meanwhile.
  bool blocked() const { return blocked_; }
  void unblock();
  // ERROR then close (management close, vhost deleted, shutdown).
  void force_close(const std::string& message, const std::string& detail);

  // Read-only views (management API).
  uint64_t id() const { return id_; }
  bool connected() const { return vhost_ != nullptr && !ended_; }
  const std::string& user() const { return user_; }
  const std::string& vhost_name() const { return vhost_name_; }
  broker::VHost* vhost() const { return vhost_; }
  std::string protocol() const;  // "STOMP 1.2"
  const PeerInfo& peer() const { return peer_; }
  std::chrono::system_clock::time_point connected_at() const { return connected_at_; }
  uint64_t heartbeat_seconds() const { return heartbeat_.receive_ms / 1000; }
  const std::map<std::string, std::shared_ptr<Subscription>>& subscriptions() const {
    return subs_;
  }
  uint32_t prefetch() const { return prefetch_; }
  size_t unacked_count() const { return unacked_.size(); }
  const broker::MessageCounters& counters() const { return counters_; }
  uint64_t recv_oct() const { return recv_oct_; }
  uint64_t recv_cnt() const { return recv_cnt_; }
  std::chrono::steady_clock::time_point last_active() const { return last_active_; }
  const std::string& auth_mechanism() const { return auth_mechanism_; }

  // broker::ConsumerSink
  bool can_take(const broker::Consumer& c) const override;
  void deliver(broker::Consumer& c, broker::Queue& q, broker::QueuedMessage&& m) override;
  void cancelled_by_broker(broker::Consumer& c) override;
  // broker::SyncWaiter: SEND receipts for persistent messages wait for their fsync.
  void on_synced(uint64_t epoch, bool ok) override;

 private:
  struct Unacked {
    uint64_t tag;
    broker::QueuePtr queue;
    broker::QueuedMessage message;
    std::shared_ptr<Subscription> sub;
    int64_t delivered_ms = 0;  // server::coarse_now_ms() when it was sent
  };
  enum class Settle { ack, requeue, reject };
  struct TxAction {
    // A SEND (exchange, key, properties, body, receipt) or an ACK/NACK.
    bool is_send = true;
    std::string exchange, routing_key, body;
    amqp::BasicProperties props;
    std::optional<std::string> receipt;
    uint64_t tag = 0;
    bool multiple = false;
    Settle how = Settle::ack;
  };

  // session.cc
  void handle(stomp::Frame& f);
  Step dispatch(stomp::Frame& f, bool& stop);
  Step connect(const stomp::Frame& f, bool implicit);
  void connect_failed(const std::string& user, const std::string& why);
  void send_frame(const stomp::Frame& f);
  void send_error(const Failure& e, const std::vector<stomp::Header>& extra = {});
  void send_receipt(const std::string& id);
  void end_session();
  void close();
  static Failure death(const Error& e);

  // session_timers.cc
  void start_heartbeats();
  void arm_send_heartbeat();
  void arm_receive_heartbeat();
  // A MESSAGE that waits for its ACK was sent at `at_ms`: arms the consumer_timeout check.
  void unacked_delivery(int64_t at_ms);
  void arm_consumer_timer(int64_t due_ms);
  void on_consumer_timer();

  // session_subscribe.cc
  Step subscribe(const stomp::Frame& f);
  Step unsubscribe(const stomp::Frame& f);
  Step ack_action(const stomp::Frame& f, bool nack);
  Step settle(uint64_t tag, bool multiple, Settle how);
  void settle_one(Unacked&& u, Settle how);
  void remove_consumer(Subscription& s);
  void resume_deliveries();
  Result<std::string> ensure_source(const stomp::Destination& d, const stomp::Frame& f,
                                    bool& created);
  Status declare_queue(const std::string& name, bool durable, bool exclusive, bool auto_delete,
                       amqp::FieldTable args, std::string* out_name = nullptr);

  // session_send.cc
  Step send(const stomp::Frame& f);
  Step transaction(const stomp::Frame& f, bool& handled);
  Step publish(const std::string& exchange, const std::string& key, amqp::BasicProperties props,
               std::string body, const std::optional<std::string>& receipt);
  Result<std::string> ensure_reply_queue(const std::string& temp_id);
  std::pair<std::string, std::string> routing(const stomp::Destination& d) const;

  SessionContext ctx_;
  Transport& transport_;
  uint64_t id_;
  PeerInfo peer_;
  stomp::Parser parser_;
  bool ended_ = false;
  bool closing_ = false;
  bool blocked_ = false;

  // After CONNECT.
  stomp::Version version_ = stomp::Version::v1_2;
  bool have_version_ = false;
  std::string session_id_;
  std::string user_;
  std::string vhost_name_;
  std::string auth_mechanism_;
  broker::VHost* vhost_ = nullptr;
  std::unique_ptr<broker::Principal> principal_;
  std::chrono::system_clock::time_point connected_at_ = std::chrono::system_clock::now();
  std::chrono::steady_clock::time_point last_active_ = std::chrono::steady_clock::now();

  std::map<std::string, std::shared_ptr<Subscription>> subs_;
  std::vector<Unacked> unacked_;  // ordered by tag
  uint64_t next_delivery_tag_ = 0;
  uint32_t prefetch_ = 0;  // basic.qos of the session's channel: applies to later SUBSCRIBEs
  std::set<std::string> declared_queues_;  // /queue/ destinations declared once per session
  std::map<std::string, std::string> reply_queues_;  // temp-queue id -> queue name
  std::map<std::string, std::vector<TxAction>> transactions_;
  std::deque<std::pair<uint64_t, std::string>> pending_receipts_;  // (epoch, receipt-id)
  bool sync_waiting_ = false;

  stomp::HeartBeatTiming heartbeat_;
  boost::asio::steady_timer login_timer_;
  boost::asio::steady_timer send_timer_;
  boost::asio::steady_timer receive_timer_;
  // consumer_timeout: armed for the moment the oldest unacked MESSAGE may time out.
  boost::asio::steady_timer consumer_timer_;
  bool consumer_timer_armed_ = false;
  uint64_t sent_at_last_tick_ = 0;
  uint64_t recv_oct_ = 0, recv_cnt_ = 0, recv_at_last_tick_ = 0;
  int missed_ = 0;

  broker::MessageCounters counters_;
};

}  // namespace pulse::stomp_server
