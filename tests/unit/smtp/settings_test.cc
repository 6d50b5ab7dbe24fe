#include "pulse/smtp/settings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pulse/smtp/smtp_notice_sink.h"

namespace pulse::smtp {
namespace {

struct KeyCase {
  std::string key;
  std::string value;
  std::string error;  // empty: accepted; else a part of the refusal's text
};

TEST(SmtpSettingsTest, ApplySettingTable) {
  const std::vector<KeyCase> cases = {
      {"pulse.smtp.host", "mail.example.org", ""},
      {"pulse.smtp.host", "127.0.0.1", ""},
      {"pulse.smtp.host", "[::1]", ""},
      {"pulse.smtp.host", "", "the host is empty"},
      {"pulse.smtp.host", "mail.example.org/x", "not a host name"},
      {"pulse.smtp.host", "user@mail", "not a host name"},
      {"pulse.smtp.host", "mail\r\nRCPT TO:<x@y>", "control characters"},
      {"pulse.smtp.port", "587", ""},
      {"pulse.smtp.port", "0", "1 to 65535"},
      {"pulse.smtp.port", "65536", "1 to 65535"},
      {"pulse.smtp.port", "25x", "1 to 65535"},
      {"pulse.smtp.port", "", "1 to 65535"},
      {"pulse.smtp.from", "pulse@example.org", ""},
      {"pulse.smtp.from", "pulse.guardian+x@mail.example.org", ""},
      {"pulse.smtp.from", "pulse", "needs an '@'"},
      {"pulse.smtp.from", "a@b@c", "exactly one '@'"},
      {"pulse.smtp.from", "@example.org", "before '@' is empty"},
      {"pulse.smtp.from", "pulse@", "domain is empty"},
      {"pulse.smtp.from", "pulse@exa mple.org", "letters, digits"},
      {"pulse.smtp.from", "pulse@example..org", "empty label"},
      {"pulse.smtp.from", "Pulse <pulse@example.org>", "must not contain ' '"},
      {"pulse.smtp.from", "a,b@example.org", "must not contain ','"},
      {"pulse.smtp.from", "a.@example.org", "double '.'"},
      {"pulse.smtp.from", "p\xc3\xa9@example.org", "ASCII"},
      // Header injection: a CR/LF would end the From: line and start a header of its own.
      {"pulse.smtp.from", "pulse@example.org\r\nBcc: victim@example.org", "control characters"},
      {"pulse.smtp.from", "pulse@example.org\nBcc: victim@example.org", "control characters"},
      {"pulse.smtp.admins.1", "root@example.org", ""},
      {"pulse.smtp.admins.ops_team", "ops@example.org", ""},
      {"pulse.smtp.admins.1", "root@example.org\r\nSubject: x", "control characters"},
      {"pulse.smtp.admins.1", "root@example.org, evil@example.org", "exactly one '@'"},
      {"pulse.smtp.admins.1", "root@example.org,evil", "the domain may hold only"},
      {"pulse.smtp.admins.", "root@example.org", "pulse.smtp.admins.<n>"},
      {"pulse.smtp.admins", "root@example.org", "unknown setting 'pulse.smtp.admins'"},
      {"pulse.smtp.admins.a.b", "root@example.org", "pulse.smtp.admins.<n>"},
      {"pulse.smtp.username", "guardian", ""},
      {"pulse.smtp.username", "", "must not be empty"},
      {"pulse.smtp.password", "s3cret", ""},
      {"pulse.smtp.tls", "none", ""},
      {"pulse.smtp.tls", "starttls", ""},
      {"pulse.smtp.tls", "tls", ""},
      {"pulse.smtp.tls", "ssl", "none, starttls or tls"},
      {"pulse.smtp.tls", "STARTTLS", "none, starttls or tls"},
      {"pulse.smtp.verify", "verify_peer", ""},
      {"pulse.smtp.verify", "verify_none", ""},
      {"pulse.smtp.verify", "true", "verify_peer or verify_none"},
      {"pulse.smtp.cacertfile", "/etc/ssl/certs/ca-certificates.crt", ""},
      {"pulse.smtp.cacertfile", "", "must name a file"},
      {"pulse.smtp.timeout", "30", ""},
      {"pulse.smtp.timeout", "0", "1 to 3600"},
      {"pulse.smtp.timeout", "-5", "1 to 3600"},
      {"pulse.smtp.timeout", "2.5", "1 to 3600"},
      {"pulse.smtp.owner_domain", "mozilla.com", ""},
      {"pulse.smtp.owner_domain", "@mozilla.com", "letters, digits"},
      {"pulse.smtp.owner_domain", "mozilla.com\r\nX: y", "control characters"},
      {"pulse.smtp.hostname", "x", "unknown setting 'pulse.smtp.hostname'"},
      {"pulse.smtp.", "x", "unknown setting 'pulse.smtp.'"},
      {"pulse.guardian.enabled", "true", "not a pulse.smtp.* setting"},
  };
  for (const auto& c : cases) {
    SmtpSettings s;
    const Status st = apply_setting(s, c.key, c.value);
    if (c.error.empty()) {
      EXPECT_TRUE(st.ok()) << c.key << " = " << c.value << ": " << st.error().text;
    } else {
      ASSERT_FALSE(st.ok()) << c.key << " = " << c.value << " was accepted";
      EXPECT_NE(st.error().text.find(c.error), std::string::npos)
          << c.key << " = " << c.value << ": " << st.error().text;
      // Every refusal names the key.
      EXPECT_NE(st.error().text.find(c.key), std::string::npos) << st.error().text;
    }
  }
}

SmtpSettings apply_all(const std::vector<std::pair<std::string, std::string>>& kv) {
  SmtpSettings s;
  for (const auto& [k, v] : kv) {
    const Status st = apply_setting(s, k, v);
    EXPECT_TRUE(st.ok()) << k << ": " << st.error().text;
  }
  return s;
}

struct ValidateCase {
  std::vector<std::pair<std::string, std::string>> settings;
  std::string error;  // empty: valid
};

TEST(SmtpSettingsTest, ValidateTable) {
  const std::string from = "pulse@example.org";
  const std::vector<ValidateCase> cases = {
      {{}, ""},  // no host: email off, nothing else required
      {{{"pulse.smtp.admins.1", "a@example.org"}}, ""},
      {{{"pulse.smtp.host", "mail.example.org"}}, "pulse.smtp.from is required"},
      {{{"pulse.smtp.host", "mail.example.org"}, {"pulse.smtp.from", from}}, ""},
      {{{"pulse.smtp.host", "mail.example.org"},
        {"pulse.smtp.from", from},
        {"pulse.smtp.password", "x"}},
       "pulse.smtp.password is set without pulse.smtp.username"},
      {{{"pulse.smtp.host", "mail.example.org"},
        {"pulse.smtp.from", from},
        {"pulse.smtp.username", "u"}},
       "pulse.smtp.username is set without pulse.smtp.password"},
      // A username makes STARTTLS the default: valid without saying tls.
      {{{"pulse.smtp.host", "mail.example.org"},
        {"pulse.smtp.from", from},
        {"pulse.smtp.username", "u"},
        {"pulse.smtp.password", "p"}},
       ""},
      {{{"pulse.smtp.host", "mail.example.org"},
        {"pulse.smtp.from", from},
        {"pulse.smtp.username", "u"},
        {"pulse.smtp.password", "p"},
        {"pulse.smtp.tls", "none"}},
       "password in clear to 'mail.example.org'"},
      {{{"pulse.smtp.host", "127.0.0.1"},
        {"pulse.smtp.from", from},
        {"pulse.smtp.username", "u"},
        {"pulse.smtp.password", "p"},
        {"pulse.smtp.tls", "none"}},
       ""},
      {{{"pulse.smtp.host", "localhost"},
        {"pulse.smtp.from", from},
        {"pulse.smtp.username", "u"},
        {"pulse.smtp.password", "p"},
        {"pulse.smtp.tls", "none"}},
       ""},
      {{{"pulse.smtp.host", "127.evil.example"},
        {"pulse.smtp.from", from},
        {"pulse.smtp.username", "u"},
        {"pulse.smtp.password", "p"},
        {"pulse.smtp.tls", "none"}},
       "password in clear"},
      {{{"pulse.smtp.host", "mail.example.org"},
        {"pulse.smtp.from", from},
        {"pulse.smtp.port", "465"},
        {"pulse.smtp.tls", "starttls"}},
       "port = 465 is implicit TLS"},
      {{{"pulse.smtp.host", "mail.example.org"},
        {"pulse.smtp.from", from},
        {"pulse.smtp.tls", "none"},
        {"pulse.smtp.cacertfile", "/etc/hostname"}},
       "cacertfile is set but pulse.smtp.tls is none"},
      {{{"pulse.smtp.host", "mail.example.org"},
        {"pulse.smtp.from", from},
        {"pulse.smtp.tls", "starttls"},
        {"pulse.smtp.cacertfile", "/nonexistent/ca.pem"}},
       "cannot be read"},
  };
  for (const auto& c : cases) {
    const SmtpSettings s = apply_all(c.settings);
    const Status st = validate(s);
    std::string what;
    for (const auto& [k, v] : c.settings) what += k + "=" + v + " ";
    if (c.error.empty()) {
      EXPECT_TRUE(st.ok()) << what << ": " << st.error().text;
    } else {
      ASSERT_FALSE(st.ok()) << what << " was accepted";
      EXPECT_NE(st.error().text.find(c.error), std::string::npos) << what << st.error().text;
    }
  }
}

TEST(SmtpSettingsTest, Defaults) {
  SmtpSettings s;
  EXPECT_FALSE(s.enabled());
  EXPECT_EQ(effective_port(s), 25);
  EXPECT_EQ(effective_tls(s), TlsMode::kNone);
  EXPECT_EQ(s.timeout, std::chrono::seconds(30));
  EXPECT_TRUE(s.verify_peer);

  s = apply_all({{"pulse.smtp.port", "465"}});
  EXPECT_EQ(effective_tls(s), TlsMode::kTls);
  s = apply_all({{"pulse.smtp.tls", "tls"}});
  EXPECT_EQ(effective_port(s), 465);
  s = apply_all({{"pulse.smtp.username", "u"}});
  EXPECT_EQ(effective_tls(s), TlsMode::kStartTls);
  EXPECT_EQ(effective_port(s), 25);
}

TEST(SmtpSettingsTest, AdminsInKeyOrderWithoutDuplicates) {
  const SmtpSettings s = apply_all({{"pulse.smtp.admins.2", "b@example.org"},
                                    {"pulse.smtp.admins.1", "a@example.org"},
                                    {"pulse.smtp.admins.3", "a@example.org"}});
  EXPECT_EQ(admin_addresses(s), (std::vector<std::string>{"a@example.org", "b@example.org"}));
}

TEST(SmtpSettingsTest, RecipientsOwnerThenAdmins) {
  SmtpSettings s = apply_all({{"pulse.smtp.host", "127.0.0.1"},
                              {"pulse.smtp.from", "pulse@example.org"},
                              {"pulse.smtp.admins.1", "root@example.org"}});
  guardian::Notice n;
  n.owner = "alice";
  auto lookup = [](const std::string& o) -> std::optional<std::string> {
    if (o == "alice") return "alice.smith@example.com";
    if (o == "mallory") return "mallory@example.com\r\nBcc: x@example.org";
    if (o == "root") return "root@example.org";
    return std::nullopt;
  };
  {
    SmtpNoticeSink sink(s, lookup);
    EXPECT_EQ(sink.recipients_for(n),
              (std::vector<std::string>{"alice.smith@example.com", "root@example.org"}));
    n.owner = "bob";  // unknown, no owner_domain: admins only
    EXPECT_EQ(sink.recipients_for(n), (std::vector<std::string>{"root@example.org"}));
    n.owner = "mallory";  // an address with CR/LF is never used
    EXPECT_EQ(sink.recipients_for(n), (std::vector<std::string>{"root@example.org"}));
    n.owner = "root";  // the owner is also an admin: once
    EXPECT_EQ(sink.recipients_for(n), (std::vector<std::string>{"root@example.org"}));
    n.owner.reset();
    EXPECT_EQ(sink.recipients_for(n), (std::vector<std::string>{"root@example.org"}));
  }
  ASSERT_TRUE(apply_setting(s, "pulse.smtp.owner_domain", "mozilla.com").ok());
  {
    SmtpNoticeSink sink(s, lookup);
    n.owner = "bob";
    EXPECT_EQ(sink.recipients_for(n),
              (std::vector<std::string>{"bob@mozilla.com", "root@example.org"}));
    n.owner = "alice";  // a known address wins over the domain
    EXPECT_EQ(sink.recipients_for(n)[0], "alice.smith@example.com");
    n.owner = "x y";  // no address can be made of it
    EXPECT_EQ(sink.recipients_for(n), (std::vector<std::string>{"root@example.org"}));
  }
}

}  // namespace
}  // namespace pulse::smtp
