#pragma once
// An AMQP channel. Synchronous methods (declare, bind, qos, consume, close, ...) send and pump
// the connection until their reply arrives; a channel.close from the server makes them (and
// every later call) return its reply code and text. publish/ack/nack/reject are buffered.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "amqp/frame.h"
#include "base/result.h"
#include "client/confirm_tracker.h"
#include "client/types.h"

namespace pulse::client {

class Connection;

class Channel {
 public:
  Channel(Connection* conn, uint16_t id) : conn_(conn), id_(id) {}
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  uint16_t id() const { return id_; }
  Connection& connection() const { return *conn_; }
  bool is_open() const { return state_ == State::kOpen; }
  // Why the server closed the channel (or the connection died); nullptr while open.
  const Error* error() const { return error_ ? &*error_ : nullptr; }

  // channel.close and wait for close-ok; afterwards this object is gone (the connection frees
  // it). On a channel the server already closed it only frees it.
  Status close();

  Status exchange_declare(std::string_view name, std::string_view type,
                          const ExchangeOptions& options = {});
  Status exchange_delete(std::string_view name, bool if_unused = false);
  Status exchange_bind(std::string_view destination, std::string_view source,
                       std::string_view routing_key, const amqp::FieldTable& arguments = {});
  Status exchange_unbind(std::string_view destination, std::string_view source,
                         std::string_view routing_key, const amqp::FieldTable& arguments = {});
  Result<QueueInfo> queue_declare(std::string_view name, const QueueOptions& options = {});
  Status queue_bind(std::string_view queue, std::string_view exchange, std::string_view routing_key,
                    const amqp::FieldTable& arguments = {});
  Status queue_unbind(std::string_view queue, std::string_view exchange,
                      std::string_view routing_key, const amqp::FieldTable& arguments = {});
  // Messages deleted with the queue / purged.
  Result<uint32_t> queue_delete(std::string_view name, bool if_unused = false,
                                bool if_empty = false);
  Result<uint32_t> queue_purge(std::string_view name);

  Status qos(uint16_t prefetch_count, bool global = false, uint32_t prefetch_size = 0);
  // Puts the channel in confirm mode; then publish() returns sequence numbers and confirms
  // reach on_confirm().
  Status confirm_select();
  // Starts a consumer; the handler receives its deliveries. Returns the consumer tag.
  Result<std::string> consume(std::string_view queue, DeliveryHandler handler,
                              const ConsumeOptions& options = {});
  Status cancel(std::string_view consumer_tag);
  // basic.get: nullopt when the queue is empty.
  Result<std::optional<Message>> get(std::string_view queue, bool no_ack = false);

  // Buffered basic.publish. Returns the publish sequence number in confirm mode, else 0.
  Result<uint64_t> publish(std::string_view exchange, std::string_view routing_key,
                           std::string_view body, const amqp::BasicProperties& properties = {},
                           bool mandatory = false);
  // The same with properties already encoded by encode_properties() (no per-message encoding).
  Result<uint64_t> publish_encoded(std::string_view exchange, std::string_view routing_key,
                                   std::string_view body, std::string_view encoded_properties,
                                   bool mandatory = false);
  static std::string encode_properties(const amqp::BasicProperties& properties);

  Status ack(uint64_t delivery_tag, bool multiple = false);
  Status nack(uint64_t delivery_tag, bool multiple = false, bool requeue = true);
  Status reject(uint64_t delivery_tag, bool requeue = true);

  bool confirm_mode() const { return confirm_mode_; }
  uint64_t unconfirmed() const { return confirms_.outstanding(); }
  uint64_t next_publish_seq() const { return confirms_.next(); }
  // Pumps until every publish so far is confirmed (ack or nack).
  Status wait_for_confirms();

  void on_confirm(ConfirmHandler h) { on_confirm_ = std::move(h); }
  void on_return(ReturnHandler h) { on_return_ = std::move(h); }
  void on_cancel(CancelHandler h) { on_cancel_ = std::move(h); }

  // --- used by Connection ------------------------------------------------------------------
  void handle_method(std::span<const uint8_t> payload);
  void handle_header(std::span<const uint8_t> payload);
  void handle_body(std::span<const uint8_t> payload);
  // The connection died: every call from now on returns e.
  void connection_lost(const Error& e);
  bool awaiting_content() const { return content_ != Content::kNone; }
  bool wants_open_ok() const { return state_ == State::kOpening; }
  Status open();  // channel.open / open-ok

 private:
  enum class State { kOpening, kOpen, kClosing, kClosed };
  enum class Content { kNone, kDeliver, kReturn, kGetOk };

  // Sends m and waits for a reply of type Reply (or, for basic.get, also Alt).
  template <typename Reply, typename M>
  Result<Reply> call(const M& m);
  Status check_usable() const;
  // Appends what `encode(std::string& out)` writes to the connection's output (open channel only).
  template <typename Encode>
  Status append_buffered(const Encode& encode);
  void closed_by_server(const amqp::ChannelClose& c);
  void content_done(std::string_view body);
  void protocol_error(uint16_t code, std::string text);

  Connection* conn_;
  uint16_t id_;
  State state_ = State::kOpening;
  std::optional<Error> error_;

  // Reply the current synchronous call waits for (class id << 16 | method id; 0 = none).
  uint32_t expect_ = 0, expect_alt_ = 0;
  std::optional<amqp::Method> reply_;
  std::optional<Message> got_;  // basic.get-ok content
  bool reply_empty_ = false;    // basic.get answered by get-empty

  // Content being assembled (basic.deliver / basic.return / basic.get-ok).
  Content content_ = Content::kNone;
  bool have_header_ = false;
  // basic.deliver decoded in place; get-ok and return fill the fields they share with it.
  amqp::BasicDeliver deliver_;
  std::string reply_text_;
  uint16_t reply_code_ = 0;
  uint32_t message_count_ = 0;
  amqp::BasicProperties props_;
  uint64_t body_size_ = 0;
  std::string body_;

  std::unordered_map<std::string, DeliveryHandler> consumers_;
  // The consumer that received the previous delivery: most channels have one consumer.
  const std::string* last_tag_ = nullptr;
  DeliveryHandler* last_handler_ = nullptr;
  DeliveryHandler pending_handler_;  // registered when consume-ok names the tag

  bool confirm_mode_ = false;
  ConfirmTracker confirms_;
  ConfirmHandler on_confirm_;
  ReturnHandler on_return_;
  CancelHandler on_cancel_;
};

}  // namespace pulse::client
