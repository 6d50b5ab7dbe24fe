#include "mgmt/reason.h"

#include <nlohmann/json.hpp>
#include <utility>

namespace pulse::mgmt {

namespace {

// RabbitMQ HTML-escapes the reasons it writes into error bodies
// (rabbit_mgmt_format:escape_html_tags); users and logs want the text itself.
std::string unescape_html(std::string s) {
  for (const auto& [from, to] : {std::pair<std::string, std::string>{"&lt;", "<"},
                                 {"&gt;", ">"},
                                 {"&quot;", "\""},
                                 {"&amp;", "&"}}) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
      s.replace(at, from.size(), to);
    }
  }
  return s;
}

}  // namespace

std::string error_reason(const HttpReply& reply) {
  auto j = nlohmann::json::parse(reply.body, nullptr, false);
  if (j.is_object()) {
    if (auto r = j.find("reason"); r != j.end() && !r->is_null()) {
      return unescape_html(r->is_string() ? r->get<std::string>() : r->dump());
    }
    if (auto e = j.find("error"); e != j.end() && !e->is_null()) {
      return e->is_string() ? e->get<std::string>() : e->dump();
    }
  }
  return reply.body.substr(0, 200);
}

}  // namespace pulse::mgmt
