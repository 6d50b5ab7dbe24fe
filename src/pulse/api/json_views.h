#pragma once
// The JSON forms of the account model and the broker's queues in /api/pulse answers.
#include <nlohmann/json.hpp>

#include "pulse/accounts/account_service.h"

namespace pulse::api {

nlohmann::json owner_json(const accounts::Owner& o, const std::vector<std::string>& users);
nlohmann::json user_json(const accounts::PulseUser& u);
nlohmann::json queue_json(const admin::QueueInfo& q);
// Without its password: listings and GET show who holds the namespace, not its secret.
nlohmann::json claim_json(const accounts::NamespaceClaim& c, const accounts::AccountSettings& s);
nlohmann::json credentials_json(const accounts::Credentials& c);

}  // namespace pulse::api
