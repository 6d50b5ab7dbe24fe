// Definitions import (src/definitions): the input is the document, parsed by parse_definitions
// and applied as POST /api/definitions applies it (the first refused entry stops the import) to
// a fresh broker holding "/" and the administrator guest, as a new node does.
//
// Checks, besides no crash: whatever the import left in the broker exports (GET
// /api/definitions) to a document that parses and imports into another fresh broker without
// error, and that broker exports the same definitions (an export is an import's fixed point).
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "auth/auth_store.h"
#include "auth/password.h"
#include "broker/broker.h"
#include "definitions/apply.h"
#include "definitions/json.h"
#include "fuzz_check.h"
#include "http/api.h"

namespace {

using nlohmann::json;
using pulse::fuzz::check;

struct Node {
  pulse::broker::Broker broker;
  pulse::auth::AuthStore auth;
  pulse::http::Api api{broker, auth, pulse::http::Hooks{}, "rabbit@localhost"};

  Node() {
    broker.add_vhost("/");
    check(auth.add_user("guest", "guest", {"administrator"}).ok(), "guest");
    check(auth.set_permissions("guest", "/", ".*", ".*", ".*").ok(), "guest permissions");
  }

  // GET /api/definitions as guest, without what differs between two nodes by design.
  json export_definitions() {
    pulse::http::Request req;
    check(pulse::http::parse_target("/api/definitions", req), "target");
    req.method = "GET";
    req.authorization = "Basic " + pulse::auth::base64_encode("guest:guest");
    std::optional<pulse::http::Response> got;
    api.handle(std::move(req), [&](pulse::http::Response r) { got = std::move(r); });
    check(got.has_value(), "export answered");
    if (got->status == 401) return nullptr;  // the import removed or changed guest
    check(got->status == 200, "export is 200");
    json j = json::parse(got->body, nullptr, false);
    check(j.is_object(), "export is a JSON object");
    j.erase("global_parameters");  // internal_cluster_id is the node's own
    j.erase("rabbit_version");
    j.erase("rabbitmq_version");
    j.erase("product_name");
    j.erase("product_version");
    return j;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = [] {
    if (true) spdlog::set_level(spdlog::level::off);
    return true;
  }();
  (void)quiet;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto defs = pulse::definitions::parse_definitions(text);
  if (!defs) {
    check(!defs.error().text.empty(), "a refused document says why");
    return 0;
  }
  Node first;
  (void)pulse::definitions::apply_definitions(*defs, first.broker, first.auth);
  json exported = first.export_definitions();
  if (exported.is_null()) return 0;
  std::string exported_text = exported.dump(-1, ' ', false, json::error_handler_t::replace);
  auto again = pulse::definitions::parse_definitions(exported_text);
  if (!again) {
    std::fprintf(stderr, "export: %s\nrefused: %s\n", exported_text.c_str(),
                 again.error().text.c_str());
  }
  check(again.ok(), "an export parses");
  Node second;
  auto applied = pulse::definitions::apply_definitions(*again, second.broker, second.auth);
  if (!applied.ok()) {
    std::fprintf(stderr, "export: %s\nrefused: %s\n", exported_text.c_str(),
                 applied.error().text.c_str());
  }
  check(applied.ok(), "an export imports into a fresh node");
  json reexported = second.export_definitions();
  if (reexported != exported) {
    std::fprintf(stderr, "export: %s\nre-export: %s\n", exported_text.c_str(),
                 reexported.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
  }
  check(reexported == exported, "an export's import exports the same");
  return 0;
}
