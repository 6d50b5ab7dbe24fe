#include "app/guardian_host.h"

#include "base/log.h"

namespace pulse::app {

smtp::OwnerLookup GuardianHost::owners() {
  return [&p = pulse_](const std::string& owner) { return p.owner_address(owner); };
}

void GuardianHost::start(const guardian::GuardianSettings& settings,
                         const smtp::SmtpSettings& smtp) {
  if (!settings.enabled) return;
  service_ = std::make_unique<GuardianService>(io_, ctx_, settings, smtp, owners());
  pulse_.attach_guardian(service_->runner(), service_->notices());
  service_->start();
}

void GuardianHost::stop() {
  if (!service_) return;
  pulse_.detach_guardian();
  service_->stop();
  service_.reset();
}

Status GuardianHost::reconfigure(const guardian::GuardianSettings& settings,
                                 const smtp::SmtpSettings& smtp, bool smtp_changed) {
  if (!settings.enabled) {
    if (service_) spdlog::info("guardian: off (pulse.guardian.enabled = false)");
    stop();
    return {};
  }
  if (!service_) {
    start(settings, smtp);
    return {};
  }
  if (auto s = pulse_.rebase_guardian(settings); !s)
    return Error{s.error().code,
                 "the new pulse.guardian.* settings do not fit those set through "
                 "/api/pulse/guardian: " +
                     s.error().text};
  if (smtp_changed) service_->set_smtp(smtp, owners());
  service_->reschedule();
  const auto& s = service_->runner().settings();
  spdlog::info("guardian: every {} s: warn over {} messages, delete over {}", s.interval.count(),
               s.thresholds.warn_queue_size, s.thresholds.delete_queue_size);
  return {};
}

}  // namespace pulse::app
