#pragma once
// One AMQP 0-9-1 client connection: socket I/O, the connection-level handshake and state
// machine, heartbeats, and demultiplexing frames to channels. Runs on the broker event loop.
// Reads are handled a buffer at a time: every complete frame is processed, replies and
// deliveries accumulate in one output buffer, and a single write flushes them (coalescing).
#include <chrono>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "amqp/frame.h"
#include "auth/auth_store.h"
#include "broker/broker.h"
#include "server/asio.h"
#include "server/options.h"
#include "server/output_queue.h"

namespace boost::asio::ssl {
class context;
}
namespace pulse::tls {
struct SessionInfo;
}

namespace pulse::server {

class Channel;
class Server;
struct ConnectionTls;

class AmqpConnection : public std::enable_shared_from_this<AmqpConnection> {
 public:
  // With a TLS context the connection is AMQPS: the TLS handshake comes first (within the
  // handshake timeout) and the connection keeps that context for its life.
  AmqpConnection(Server& server, boost::asio::ip::tcp::socket socket, uint64_t id,
                 std::shared_ptr<boost::asio::ssl::context> tls_context = nullptr);
  ~AmqpConnection();

  void start();
  // The resource alarm cleared: send connection.unblocked if we blocked, and read again.
  void unblock();
  // Closes with connection.close (CONNECTION_FORCED on shutdown, management close...).
  void force_close(uint16_t code, const std::string& text);
  // At shutdown, before force_close: handles what the client sent before the broker decided
  // to stop (acks above all), as a reader that was never behind would have.
  void drain_input();

  uint64_t id() const { return id_; }
  Server& server() { return server_; }
  broker::Broker& broker();
  auth::AuthStore& auth();
  const ServerOptions& options() const;
  broker::VHost* vhost() { return vhost_; }
  const std::string& user() const { return user_; }
  uint32_t frame_max() const { return frame_max_; }
  bool cancel_notify() const { return cap_cancel_notify_; }
  std::string& out() { return out_.bytes(); }
  OutputQueue& output() { return out_; }
  // Ask for a flush of the output buffer once the current batch of work is done.
  void schedule_flush();
  // A delivery to a consumer that acks was appended to the output, which held `size_before`
  // bytes before it (see gather_deliveries()).
  void delivery_appended(size_t size_before) {
    if (size_before == delivery_bytes_) delivery_bytes_ = out_.size();
  }
  // A delivery that waits for an ack was sent at `at_ms` (coarse_now_ms()): arms the
  // consumer_timeout check if none is armed.
  void unacked_delivery(int64_t at_ms) {
    if (!consumer_timer_armed_) arm_consumer_timer(at_ms + options().consumer_timeout_ms);
  }
  // `n` deliveries were settled (acked, rejected or requeued): the consumers' pace.
  void note_settled(size_t n);
  // True when too much output is queued; deliveries resume once it drains.
  bool output_congested();
  // A connection-level error, answered as RabbitMQ does for the current phase: before tune-ok
  // the socket is closed silently after a delay; from tune-ok on with connection.close.
  void connection_error(uint16_t code, std::string text, uint16_t class_id = 0,
                        uint16_t method_id = 0);
  void connection_error(const Error& e) {
    connection_error(e.code, e.text, e.class_id, e.method_id);
  }
  bool closing() const { return state_ >= State::kClosing; }
  // The vhost is being deleted: close with RabbitMQ's "vhost 'X' is down" and let go of it
  // before it is destroyed.
  void vhost_deleted();

  // Read-only views for the management API (snapshots taken on the loop thread).
  const std::string& vhost_name() const { return vhost_name_; }
  const std::string& auth_mechanism() const { return mechanism_; }
  const amqp::FieldTable& client_properties() const { return client_properties_; }
  uint16_t channel_max() const { return channel_max_; }
  uint16_t heartbeat() const { return heartbeat_; }
  // RabbitMQ's connection state: starting, tuning, opening, running, blocked, closing...
  const char* state_text() const;
  const boost::asio::ip::tcp::endpoint& peer() const { return peer_; }
  bool is_tls() const { return tls_ != nullptr; }
  // The TLS session (protocol, cipher, peer certificate); null on plaintext connections and
  // before the TLS handshake completed.
  const tls::SessionInfo* tls_session() const;
  const boost::asio::ip::tcp::endpoint& local() const { return local_; }
  std::chrono::system_clock::time_point connected_at() const { return connected_at_; }
  struct IoCounters {
    uint64_t recv_oct = 0, recv_cnt = 0, send_oct = 0, send_cnt = 0;
  };
  const IoCounters& io_counters() const { return io_counters_; }
  size_t send_pending() const { return out_.size() + writing_.size(); }
  const std::map<uint16_t, std::unique_ptr<Channel>>& channels() const { return channels_; }
  std::chrono::steady_clock::time_point last_recv() const { return last_recv_; }

  // "127.0.0.1:50000 -> 127.0.0.1:5672", the management API's connection name.
  std::string name() const;
  uint64_t recv_oct() const { return io_counters_.recv_oct; }
  uint64_t send_oct() const { return io_counters_.send_oct; }

 private:
  // RabbitMQ's connection states. kClosing: connection.close was sent or received and only
  // close / close-ok still matter. kDiscarding: input can no longer be trusted (framing lost, or
  // a refused handshake); it is read and dropped until a timer closes the socket.
  enum class State {
    kHeader,
    kStarting,
    kTuning,
    kOpening,
    kRunning,
    kClosing,
    kDiscarding,
    kClosed
  };

  void read_more();
  void on_readable();
  // Handles n bytes of input (from the scratch buffer or the TLS buffer), then goes on.
  void consume_input(const uint8_t* data, size_t n);
  // AMQPS (amqp_connection_tls.cc): the TLS handshake, then reads on the ssl stream.
  void start_tls();
  void tls_read_more();
  void write_tls();
  // Starts a TLS close (close_notify, as Erlang's ssl sends) that closes the socket when the
  // peer answers or after a second; false when there is no TLS session to close that way.
  bool tls_close_notify();
  bool tls_closing() const;
  void send_close_notify();
  // The mechanisms connection.start offers, as RabbitMQ orders them (its registry order,
  // whatever the order of auth_mechanisms.N): PLAIN, EXTERNAL (TLS only), AMQPLAIN.
  std::vector<std::string_view> offered_mechanisms() const;
  // SASL EXTERNAL: the user the verified client certificate names, or an empty string (and a
  // log line saying why) when there is none.
  std::string external_user() const;
  // "127.0.0.1:50000", for log lines about connections that have no AMQP identity yet.
  std::string peer_text() const {
    return peer_.address().to_string() + ":" + std::to_string(peer_.port());
  }
  // After input was handled: blocks (alarm), pauses (output backlog) or reads on.
  void after_input(bool keep_going);
  bool must_block() const;
  // Handles what in_ holds (input held back while blocked), then goes on as after a read.
  void resume_held_input();
  // Processes complete frames in the input buffer; false when the connection is finished.
  // Handles the complete frames at the front of `data`; returns the bytes used. keep_going is
  // false once the connection is finished.
  // How many bytes of a new read complete the partial frame held in in_ (all of them when
  // that cannot be known yet).
  size_t straddle_take(const uint8_t* data, size_t n) const;
  size_t process_input(std::span<const uint8_t> data, bool& keep_going);
  bool process_header(std::span<const uint8_t> data, size_t& used);
  void handle_frame(const amqp::FrameView& f);
  void handle_channel0_frame(const amqp::FrameView& f, amqp::FrameKind kind);
  void handle_channel_frame(const amqp::FrameView& f, amqp::FrameKind kind);
  void handle_connection_method(const amqp::Method& m);
  void handle_start_ok(const amqp::ConnectionStartOk& m);
  void handle_tune_ok(const amqp::ConnectionTuneOk& m);
  void handle_open(const amqp::ConnectionOpen& m);
  void send_start();
  const char* state_name() const;
  size_t open_channel_count() const;
  // Sends connection.close and waits for close-ok, as RabbitMQ's close_connection does.
  void send_close(uint16_t code, std::string text, uint16_t class_id, uint16_t method_id);
  // Stops trusting input and closes the socket after RabbitMQ's SILENT_CLOSE_DELAY.
  void discard_then_close();
  void arm_close_timer(std::chrono::milliseconds after);
  std::chrono::milliseconds closing_timeout() const;
  // Releases channels and exclusive queues; the socket may outlive the session a little.
  void end_session();
  // Flushes what is queued, then closes the socket.
  void terminate();
  void flush();
  // Whether to hold output that is only deliveries for the loop's window: when the consumers
  // on this connection hold more than they work through in eight windows, a refill can wait and
  // go out with the next ones (a Python consumer acking one by one then reads several
  // deliveries per wake-up instead of one). Arms gather_timer_ and returns true if so.
  bool gather_deliveries();
  void on_write(boost::system::error_code ec);
  void shutdown_socket();
  void teardown();
  void start_heartbeat();
  void on_heartbeat_timer();
  void refuse_login(const std::string& mechanism);

  Server& server_;
  boost::asio::ip::tcp::socket socket_;
  std::unique_ptr<ConnectionTls> tls_;  // null for plaintext AMQP
  uint64_t id_;
  State state_ = State::kHeader;
  bool recently_read_ = false;     // the last read returned data: read again before waiting
  bool wrote_since_read_ = false;  // the peer may be waiting for what we wrote
  // A partial frame carried over between reads (usually empty); while blocked, also the
  // complete frames that followed the publish that blocked us.
  std::vector<uint8_t> in_;
  size_t in_len_ = 0;
  OutputQueue out_;
  OutputQueue writing_;
  bool write_in_flight_ = false;
  bool flush_scheduled_ = false;
  bool close_after_flush_ = false;
  bool torn_down_ = false;
  bool congested_ = false;
  bool session_ended_ = false;

  uint16_t channel_max_ = 0;
  uint32_t frame_max_ = amqp::kFrameMinSize;
  uint16_t heartbeat_ = 0;
  std::string user_;
  std::string mechanism_;
  broker::VHost* vhost_ = nullptr;
  std::string vhost_name_;  // kept after the vhost is gone, for listings of closing ones
  amqp::FieldTable client_properties_;
  boost::asio::ip::tcp::endpoint peer_, local_;
  std::chrono::system_clock::time_point connected_at_;
  IoCounters io_counters_;
  bool cap_cancel_notify_ = false;
  bool cap_auth_failure_close_ = false;
  bool cap_blocked_ = false;
  // Resource alarm flow control, as RabbitMQ's reader does it: a basic.publish method frame seen
  // while alarmed stops input right after that frame (its content, and whatever followed, waits
  // in in_ unprocessed) and the connection is blocked until the alarm clears.
  bool block_pending_ = false;
  bool blocked_ = false;
  bool blocked_notified_ = false;
  bool read_in_flight_ = false;
  bool read_paused_ = false;  // output backlog too large: reading resumes once it drains
  std::map<uint16_t, std::unique_ptr<Channel>> channels_;

  boost::asio::steady_timer handshake_timer_;
  boost::asio::steady_timer heartbeat_timer_;
  boost::asio::steady_timer close_timer_;
  boost::asio::steady_timer gather_timer_;
  // consumer_timeout: armed for the earliest moment a channel's oldest unacked delivery may
  // time out; when it fires, late channels close and it is armed again for the rest.
  boost::asio::steady_timer consumer_timer_;
  bool consumer_timer_armed_ = false;
  void arm_consumer_timer(int64_t due_ms);
  void on_consumer_timer();
  size_t delivery_bytes_ = 0;  // out_ holds only deliveries when out_.size() equals this
  bool gather_armed_ = false;
  bool gathered_ = false;  // the gather timer fired: this flush writes
  uint64_t settled_ = 0;   // since pace_since_
  std::chrono::steady_clock::time_point pace_since_{};
  double settle_rate_ = 0;  // deliveries settled per second, measured over >= 2 ms
  std::chrono::steady_clock::time_point last_recv_;
  std::chrono::steady_clock::time_point last_send_;
};

}  // namespace pulse::server
