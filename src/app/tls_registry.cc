#include "app/tls_registry.h"

#include <spdlog/spdlog.h>

#include <ctime>

namespace pulse::app {
namespace {

std::string date_text(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

}  // namespace

Result<std::shared_ptr<tls::ContextHolder>> TlsRegistry::holder(
    const std::string& name, const tls::ServerTlsOptions& options) {
  for (const auto& h : holders_) {
    if (h->name() == name) return h;
  }
  auto h = std::make_shared<tls::ContextHolder>(name, options);
  if (auto s = h->load(); !s) return std::move(s).error();
  if (options.crl_check != tls::CrlCheck::kFalse && !options.verify_peer) {
    // RabbitMQ starts and checks nothing then; pulsed does the same but says so, since an
    // operator would otherwise believe revoked certificates are refused.
    spdlog::warn(
        "TLS {}: crl_check = {} has no effect without verify = verify_peer: client certificates "
        "are not checked",
        name, tls::crl_check_name(options.crl_check));
  } else if (options.crl_check != tls::CrlCheck::kFalse) {
    spdlog::info("TLS {}: crl_check = {}, {} CRL(s) in cacertfile", name,
                 tls::crl_check_name(options.crl_check), h->crls().size());
    if (h->crls().empty() && options.crl_check != tls::CrlCheck::kBestEffort) {
      spdlog::warn(
          "TLS {}: crl_check = {} and no CRL in cacertfile: every client certificate "
          "will be refused",
          name, tls::crl_check_name(options.crl_check));
    }
  }
  holders_.push_back(h);
  return h;
}

void TlsRegistry::bound(std::string protocol, std::string ip, uint16_t port,
                        std::shared_ptr<tls::ContextHolder> holder) {
  listeners_.push_back({std::move(protocol), std::move(ip), port, std::move(holder)});
}

void TlsRegistry::reload() {
  for (const auto& h : holders_) {
    if (auto s = h->load(); !s) {
      spdlog::error("SIGHUP: TLS certificate of {} not reloaded, the previous one stays in use: {}",
                    h->name(), s.error().text);
      continue;
    }
    const auto& leaf = h->certificates().front();
    spdlog::info("SIGHUP: TLS certificate of {} reloaded: {} (serial {}, expires {})", h->name(),
                 leaf.subject, leaf.serial, date_text(leaf.not_after));
    // Revoking is appending a CRL to cacertfile and reloading: say what was read.
    if (h->options().crl_check != tls::CrlCheck::kFalse) {
      int revoked = 0;
      for (const auto& c : h->crls()) revoked += c.revoked;
      spdlog::info("SIGHUP: CRLs of {} reloaded: {} CRL(s), {} revoked certificate(s)", h->name(),
                   h->crls().size(), revoked);
    }
  }
  warn_expiring(std::chrono::hours(24 * 30));
}

void TlsRegistry::warn_expiring(std::chrono::seconds within) const {
  const auto now = std::chrono::system_clock::now();
  for (const auto& h : holders_) {
    auto check = [&](const std::vector<tls::CertificateInfo>& certs, const char* what) {
      for (const auto& c : certs) {
        if (c.not_after <= now) {
          spdlog::error("TLS {} of {} has expired on {}: {}", what, h->name(),
                        date_text(c.not_after), c.subject);
        } else if (c.not_after - now <= within) {
          spdlog::warn("TLS {} of {} expires on {}: {}", what, h->name(), date_text(c.not_after),
                       c.subject);
        }
      }
    };
    check(h->certificates(), "certificate");
    check(h->ca_certificates(), "CA certificate");
    if (h->options().crl_check == tls::CrlCheck::kFalse) continue;
    // A CRL past its next update fails every client certificate it covers (not for
    // best_effort either: only a missing CRL is forgiven).
    for (const auto& c : h->crls()) {
      if (c.next_update != std::chrono::system_clock::time_point{} && c.next_update <= now) {
        spdlog::error(
            "TLS CRL of {} from {} has expired on {}: client certificates it covers are "
            "refused until a newer CRL is in cacertfile",
            h->name(), c.issuer, date_text(c.next_update));
      }
    }
  }
}

}  // namespace pulse::app
