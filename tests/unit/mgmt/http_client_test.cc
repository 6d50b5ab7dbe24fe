// The client's reply rules against a real httpd::Server on a free loopback port.
#include <gtest/gtest.h>
#include <zlib.h>

#include <string>
#include <thread>

#include "httpd/server.h"
#include "mgmt/errors.h"
#include "mgmt/http_client.h"

namespace pulse::mgmt {
namespace {

std::string gzip_of(const std::string& in) {
  z_stream z{};
  deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, in.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

class HttpClientReplies : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ep = server_.listen("127.0.0.1", 0, [](httpd::Request req, httpd::Reply done) {
      httpd::Response r;
      r.content_type = "text/plain";
      if (req.path == "/log") {
        r.body = std::string(5000, 'a');
      } else if (req.path == "/log.gz") {
        r.body = gzip_of(std::string(5000, 'b'));
        r.headers.emplace_back("content-encoding", "gzip");
      } else {
        r.status = 404;
        r.body = "no";
      }
      done(std::move(r));
    });
    ASSERT_TRUE(ep) << ep.error().text;
    base_ = "http://127.0.0.1:" + std::to_string(ep->port());
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    io_.stop();
    thread_.join();
  }

  HttpClient client(const std::string& path) const {
    auto url = parse_url(base_ + path);
    EXPECT_TRUE(url);
    return HttpClient(*url, "", "", std::chrono::milliseconds(3000));
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      io_.get_executor()};
  httpd::Server server_{io_};
  std::string base_;
  std::thread thread_;
};

TEST_F(HttpClientReplies, HeadHasHeadersAndNoBody) {
  // Without skipping the body a HEAD reply's Content-Length would make the client wait for
  // 5000 bytes that never come (and time out).
  auto r = client("/log").relay("HEAD", "", "", {});
  ASSERT_TRUE(r) << r.error().text;
  EXPECT_EQ(r->status, 200u);
  EXPECT_TRUE(r->body.empty());
}

TEST_F(HttpClientReplies, BodyLimit) {
  auto c = client("/log");
  c.set_body_limit(4999);
  auto over = c.relay("GET", "", "", {});
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, kBadReply);
  EXPECT_NE(over.error().text.find("larger than the limit of 4999 bytes"), std::string::npos);
  c.set_body_limit(5000);
  auto fits = c.relay("GET", "", "", {});
  ASSERT_TRUE(fits) << fits.error().text;
  EXPECT_EQ(fits->body.size(), 5000u);
}

TEST_F(HttpClientReplies, GzipDecodedWhenAskedAndBounded) {
  auto plain = client("/log.gz");
  auto raw = plain.relay("GET", "", "", {});
  ASSERT_TRUE(raw) << raw.error().text;
  EXPECT_NE(raw->body, std::string(5000, 'b'));  // not asked: the bytes as sent

  auto c = client("/log.gz");
  c.set_accept_gzip(true);
  auto r = c.relay("GET", "", "", {});
  ASSERT_TRUE(r) << r.error().text;
  EXPECT_EQ(r->body, std::string(5000, 'b'));

  c.set_body_limit(4000);  // the compressed reply fits; what it expands to does not
  auto over = c.relay("GET", "", "", {});
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, kBadReply);
}

}  // namespace
}  // namespace pulse::mgmt
