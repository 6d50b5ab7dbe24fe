#pragma once
// The push engine's Source over AMQP (the client library): each subscription's durable queue
// on a RabbitMQ node (pulse-guardian's scale-out path), read with basic.get and acked after
// the callback's 2xx, over one connection per vhost with the guardian's credentials
// (--amqp-url). A lost connection is opened again at the next call (next endpoint first); the
// broker gives an unacked message back when the connection it was taken on goes, so nothing
// is lost (a message acked on a dead channel comes again: at-least-once).
//
// Thread: the owner's (pulse-guardian's loop). Each call blocks it for at most the endpoints'
// connect and rpc timeouts (bounded here to 5 s).
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "client/connection.h"
#include "pulse/push/engine.h"

namespace pulse::push {

class AmqpSource : public Source {
 public:
  // `endpoints`: a node list (parse_uri_list); each connection replaces the vhost.
  explicit AmqpSource(std::vector<client::ConnectionOptions> endpoints);
  ~AmqpSource() override;

  Status check(const std::string& vhost, const std::string& exchange) override;
  Status open(const Subscription& s) override;
  Result<std::optional<PushMessage>> next(const Subscription& s) override;
  void ack(const Subscription& s) override;
  void release(const Subscription& s) override;
  Status remove(const Subscription& s) override;
  std::optional<uint64_t> depth(const Subscription& s) override;

 private:
  struct Link {
    std::unique_ptr<client::Connection> connection;
    client::Channel* channel = nullptr;
    uint64_t generation = 0;  // a new channel invalidates the delivery tags taken before
  };
  struct Held {
    std::string vhost;
    uint64_t generation = 0;
    uint64_t tag = 0;
  };
  Result<client::Channel*> channel(const std::string& vhost);
  // After a failed call: a channel the server closed is freed, a dead connection dropped; the
  // error as the engine reads it (404 stays, the rest is 503 unless a refusal).
  Error failed(const std::string& vhost, const Error& e);

  std::vector<client::ConnectionOptions> endpoints_;
  size_t next_endpoint_ = 0;
  uint64_t generations_ = 0;
  std::map<std::string, Link> links_;
  std::map<std::string, Held> held_;  // by subscription id
};

}  // namespace pulse::push
