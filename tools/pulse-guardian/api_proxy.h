#pragma once
// pulse-guardian's proxy of RabbitMQ's management API (--listen): every /api/... request but
// /api/pulse/... goes to --url (its TLS settings, --timeout) as it came (method, path and
// query, body, the client's Authorization, Content-Type and X-Reason; never the guardian's own
// credentials), and RabbitMQ's answer comes back (status, content type, body, and the headers
// a client acts on). So the admin UI, served by the same listener, works in front of RabbitMQ.
//
// Threads: requests are queued by the loop's thread and carried out by a few worker threads of
// the proxy's own, each request on a connection of its own; the answer is posted back to the
// loop's io_context. A page listing 20,000 queues, or a RabbitMQ that takes --timeout to
// answer, therefore never holds the guardian's polls nor the /api/pulse requests, and a slow
// request holds one worker, not the others. Bounded: kWorkers at once, kMaxWaiting more
// waiting (past that: 503 at once); bodies are capped by the server (kMaxBody, 413).
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "httpd/server.h"
#include "mgmt/http_client.h"

namespace pulse::tools {

class ApiProxy {
 public:
  static constexpr size_t kWorkers = 4;
  static constexpr size_t kMaxWaiting = 64;
  // RabbitMQ's management.http.max_body_size is 20 MB (definitions imports are the largest
  // bodies): a larger one is refused here (413) rather than sent on.
  static constexpr size_t kMaxBody = 20 * 1024 * 1024;

  // `rabbit` (the guardian's client: URL, TLS settings, timeout) must outlive the proxy.
  ApiProxy(boost::asio::io_context& io, const mgmt::HttpClient& rabbit);
  ~ApiProxy();
  ApiProxy(const ApiProxy&) = delete;
  ApiProxy& operator=(const ApiProxy&) = delete;

  // From the loop's thread: `done` is called later on it, with RabbitMQ's answer or a 503.
  void forward(httpd::Request req, httpd::Reply done);
  // Ends the workers after the requests they are carrying out; waiting ones are dropped
  // (their connections close with the loop). Called by the destructor too.
  void stop();

 private:
  struct Job {
    httpd::Request req;
    httpd::Reply done;
  };
  void work();
  httpd::Response carry_out(const httpd::Request& req) const;

  boost::asio::io_context& io_;
  const mgmt::HttpClient& rabbit_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<Job> waiting_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

// RabbitMQ's answer as the client gets it: status, content type, body, and www-authenticate,
// content-disposition, location and allow.
httpd::Response relayed_response(const mgmt::HttpReply& reply);

}  // namespace pulse::tools
