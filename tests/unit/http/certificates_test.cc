// /api/health/checks/certificate-expiration with TLS listeners given through
// Hooks::tls_listener_certificates: which listeners fail, the fields and date format RabbitMQ
// 3.10 prints (tests/integration/test_https.py checks them against a real node).
#include <chrono>

#include "api_fixture.h"

namespace pulse::http::testing {
namespace {

using namespace std::chrono;

system_clock::time_point in_days(double days) {
  return time_point_cast<system_clock::duration>(system_clock::now() +
                                                 duration<double>(days * 86400));
}

// 2026-01-02 03:04:05 UTC (expired).
const system_clock::time_point kFixed = system_clock::from_time_t(1767323045);

class CertificatesTest : public ApiTest {
 protected:
  Reply check(std::vector<TlsListenerCertificates> listeners, const std::string& within,
              const std::string& unit) {
    Hooks h;
    h.tls_listener_certificates = [listeners] { return listeners; };
    Api with(broker, auth, std::move(h), "rabbit@localhost");
    Request req;
    EXPECT_TRUE(
        parse_target("/api/health/checks/certificate-expiration/" + within + "/" + unit, req));
    req.method = "GET";
    req.authorization = basic("guest", "guest");
    Reply out;
    with.handle(std::move(req), [&](Response r) {
      out.status = r.status;
      out.json = json::parse(r.body, nullptr, false);
    });
    return out;
  }

  static TlsListenerCertificates listener(std::string protocol, uint16_t port,
                                          std::vector<system_clock::time_point> cert,
                                          std::vector<system_clock::time_point> ca) {
    TlsListenerCertificates l;
    l.protocol = std::move(protocol);
    l.interface = "127.0.0.1";
    l.port = port;
    l.certfile = "/c/" + std::to_string(port) + ".pem";
    l.cacertfile = "/c/ca.pem";
    l.certfile_not_after = std::move(cert);
    l.cacertfile_not_after = std::move(ca);
    return l;
  }
};

TEST_F(CertificatesTest, OkWhenNothingExpiresWithin) {
  auto l = listener("amqp/ssl", 5671, {in_days(30)}, {in_days(40)});
  EXPECT_EQ(check({l}, "29", "days").json, (json{{"status", "ok"}}));
  EXPECT_EQ(check({l}, "4", "weeks").status, 200u);
  EXPECT_EQ(check({l}, "-1", "years").status, 200u);
  EXPECT_EQ(check({}, "100", "years").status, 200u);
}

TEST_F(CertificatesTest, UnitsAndNumbersAsErlangReadsThem) {
  auto l = listener("amqp/ssl", 5671, {in_days(40)}, {});
  EXPECT_EQ(check({l}, "1", "months").status, 200u);  // 30.4 days
  EXPECT_EQ(check({l}, "2", "MONTHS").status, 503u);  // 60.8 days, any case
  EXPECT_EQ(check({l}, "+6", "Weeks").status, 503u);  // 42 days
  EXPECT_EQ(check({l}, "5", "weeks").status, 200u);   // 35 days
  EXPECT_EQ(check({l}, "1", "years").status, 503u);
  EXPECT_EQ(check({l}, "123456789012345678901234567890", "days").status, 503u);
  EXPECT_EQ(check({l}, "0x10", "days").json, bad_request_body("Invalid expiration value."));
  EXPECT_EQ(check({l}, "-", "days").json, bad_request_body("Invalid expiration value."));
  EXPECT_EQ(check({l}, "1.0", "day").json, bad_request_body("Invalid expiration value."));
  EXPECT_EQ(check({l}, "1", "day").json,
            bad_request_body("Time unit not recognised. Supported units: days, weeks, months, "
                             "years."));
}

TEST_F(CertificatesTest, FailedListsEachExpiringListenerLastFirst) {
  auto amqps = listener("amqp/ssl", 5671, {kFixed}, {in_days(3650)});
  auto https = listener("https", 15671, {in_days(400)}, {in_days(10), in_days(3650)});
  auto fine = listener("https/prometheus", 15691, {in_days(3650)}, {});
  fine.cacertfile.clear();
  Reply r = check({amqps, https, fine}, "1", "years");
  ASSERT_EQ(r.status, 503u);
  EXPECT_EQ(r.json["status"], "failed");
  EXPECT_EQ(r.json["reason"], "Certificates expiring");
  ASSERT_EQ(r.json["expired"].size(), 2u);
  const json& first = r.json["expired"][0];
  EXPECT_EQ(first["protocol"], "https");
  EXPECT_EQ(first["certfile_expires_on"], json::array());
  EXPECT_EQ(first["cacertfile_expires_on"].size(), 1u);  // only the CA within the year
  EXPECT_EQ(
      r.json["expired"][1],
      (json{{"node", "rabbit@localhost"},
            {"protocol", "amqp/ssl"},
            {"interface", "127.0.0.1"},
            {"port", 5671},
            {"certfile", "/c/5671.pem"},
            {"cacertfile", "/c/ca.pem"},
            {"certfile_expires_on", json::array({"2026-01-02 3:04:05"})},  // the hour not padded
            {"cacertfile_expires_on", json::array()}}));
}

TEST_F(CertificatesTest, AnUnreadableFileIsReportedWithWhy) {
  auto l = listener("https", 15671, {}, {in_days(3650)});
  l.certfile_error = "cannot read '/c/15671.pem'";
  Reply r = check({l}, "1", "days");
  ASSERT_EQ(r.status, 503u);
  EXPECT_EQ(r.json["expired"][0]["certfile_expires_on"],
            (json{{"error", "cannot read '/c/15671.pem'"}}));
  EXPECT_EQ(r.json["expired"][0]["cacertfile_expires_on"], json::array());
}

}  // namespace
}  // namespace pulse::http::testing
