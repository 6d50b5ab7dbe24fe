#include "app/pulse_service.h"

namespace pulse::app {

PulseService::PulseService(boost::asio::io_context& io, ManagementContext& ctx,
                           accounts::AccountSettings settings)
    : admin_(ctx.broker, ctx.auth, local_admin_hooks(ctx)),
      account_store_(ctx.store),
      guardian_store_(ctx.store, accounts::kPulseGuardianScope),
      host_(io, admin_, account_store_, guardian_store_, std::move(settings)) {}

}  // namespace pulse::app
