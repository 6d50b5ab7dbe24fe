#pragma once
// The guardian's life in pulsed: started when pulse.guardian.enabled, plugged into the Pulse
// API, and changed on SIGHUP by the re-read pulse.guardian.* and pulse.smtp.* keys: turned on
// or off, new settings under the API's stored layer, a new mail target.
//
// Thread: the event loop (start-up, signals and polls all run there).
#include <memory>

#include "app/guardian_service.h"
#include "app/pulse_service.h"

namespace pulse::app {

class GuardianHost {
 public:
  // `ctx` and `pulse` must outlive the host.
  GuardianHost(boost::asio::io_context& io, ManagementContext& ctx, PulseService& pulse)
      : io_(io), ctx_(ctx), pulse_(pulse) {}
  ~GuardianHost() { stop(); }

  // Start-up: the guardian runs when `settings.enabled` (both validated by the config reader).
  void start(const guardian::GuardianSettings& settings, const smtp::SmtpSettings& smtp);
  // A reload. When the new settings do not fit what was set through /api/pulse/guardian, the
  // running guardian keeps everything it had and the reason is returned; the mail target is
  // replaced only when `smtp_changed`.
  Status reconfigure(const guardian::GuardianSettings& settings, const smtp::SmtpSettings& smtp,
                     bool smtp_changed);
  // No poll after this (shutdown, or turned off).
  void stop();
  bool running() const { return service_ != nullptr; }

 private:
  smtp::OwnerLookup owners();

  boost::asio::io_context& io_;
  ManagementContext& ctx_;
  PulseService& pulse_;
  std::unique_ptr<GuardianService> service_;
};

}  // namespace pulse::app
