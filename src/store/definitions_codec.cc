#include "store/definitions_codec.h"

#include <nlohmann/json.hpp>

#include "amqp/field_table_json.h"
#include "base/bytes.h"

namespace pulse::store {
namespace {

Error damaged(const std::string& what_part) {
  return Error{0, "definitions database: undecodable " + what_part + " (damaged database?)"};
}

}  // namespace

std::vector<uint8_t> encode_args(const amqp::FieldTable& t) {
  std::string buf;
  ByteWriter w(buf);
  amqp::encode_table(w, t);
  return {buf.begin(), buf.end()};
}

Result<amqp::FieldTable> decode_args(const std::vector<uint8_t>& bytes, const std::string& what) {
  amqp::FieldTable t;
  if (bytes.empty()) return t;
  ByteReader r(bytes.data(), bytes.size());
  if (!amqp::decode_table(r, t) || !r.empty()) return damaged("arguments of " + what);
  return t;
}

std::string encode_vhost_metadata(const definitions::Vhost& v) {
  nlohmann::json j = {{"description", v.description}, {"tags", v.tags}};
  if (!v.default_queue_type.empty()) j["default_queue_type"] = v.default_queue_type;
  return j.dump();
}

void decode_vhost_metadata(std::string_view text, definitions::Vhost& v) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return;
  if (auto it = j.find("description"); it != j.end() && it->is_string()) v.description = *it;
  if (auto it = j.find("tags"); it != j.end() && it->is_array())
    for (const auto& t : *it)
      if (t.is_string()) v.tags.push_back(t);
  if (auto it = j.find("default_queue_type"); it != j.end() && it->is_string())
    v.default_queue_type = *it;
}

std::string encode_policy_definition(const amqp::FieldTable& t) {
  return amqp::field_table_to_json(t).dump();
}

Result<amqp::FieldTable> decode_policy_definition(const std::string& text,
                                                  const std::string& what) {
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return damaged("definition of " + what);
  auto t = amqp::json_to_field_table(json);
  if (!t) return damaged("definition of " + what);
  return t;
}

std::string join_tags(const std::vector<std::string>& tags) {
  std::string out;
  for (const auto& t : tags) {
    if (!out.empty()) out += ',';
    out += t;
  }
  return out;
}

std::vector<std::string> split_tags(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace pulse::store
