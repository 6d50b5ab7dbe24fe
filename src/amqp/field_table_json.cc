#include "amqp/field_table_json.h"

#include <limits>

namespace pulse::amqp {
namespace {

using nlohmann::json;

Result<FieldValue> to_field_value(const json& j, int depth) {
  if (depth > kMaxFieldDepth) return Error{0, "nesting too deep"};
  switch (j.type()) {
    case json::value_t::string:
      return FieldValue(j.get<std::string>());
    case json::value_t::boolean:
      return FieldValue(j.get<bool>());
    case json::value_t::number_integer:
      return FieldValue(j.get<int64_t>());
    case json::value_t::number_unsigned: {
      uint64_t u = j.get<uint64_t>();
      if (u > uint64_t(std::numeric_limits<int64_t>::max())) {
        return Error{0, "integer " + std::to_string(u) + " does not fit a signed 64-bit value"};
      }
      return FieldValue(int64_t(u));
    }
    case json::value_t::number_float:
      return FieldValue(j.get<double>());
    case json::value_t::null:
      return FieldValue(Void{});
    case json::value_t::array: {
      FieldArray arr;
      arr.reserve(j.size());
      for (const json& e : j) {
        auto v = to_field_value(e, depth + 1);
        if (!v.ok()) return std::move(v).error();
        arr.push_back(std::move(v).value());
      }
      return FieldValue(std::move(arr));
    }
    case json::value_t::object: {
      FieldTable t;
      t.reserve(j.size());
      for (const auto& [k, e] : j.items()) {
        auto v = to_field_value(e, depth + 1);
        if (!v.ok()) return std::move(v).error();
        t.emplace_back(k, std::move(v).value());
      }
      return FieldValue(std::move(t));
    }
    default:
      return Error{0, "unsupported JSON value"};
  }
}

}  // namespace

Result<FieldValue> json_to_field_value(const json& value) {
  return to_field_value(value, 0);
}

Result<FieldTable> json_to_field_table(const json& object) {
  if (!object.is_object()) return Error{0, "arguments must be a JSON object"};
  auto v = to_field_value(object, 0);
  if (!v.ok()) return std::move(v).error();
  return std::move(*std::get_if<FieldTable>(&v.value().v));
}

json field_value_to_json(const FieldValue& v) {
  if (const std::string* s = v.as_string()) return *s;
  if (const bool* b = v.as_bool()) return *b;
  if (auto i = v.as_int()) return *i;
  if (auto* d = std::get_if<double>(&v.v)) return *d;
  if (auto* f = std::get_if<float>(&v.v)) return static_cast<double>(*f);
  if (auto* t = std::get_if<Timestamp>(&v.v)) return t->value;
  if (auto* x = std::get_if<ByteArray>(&v.v)) return x->bytes;
  if (auto* d = std::get_if<Decimal>(&v.v)) {
    double r = d->value;
    for (uint8_t i = 0; i < d->scale; ++i) r /= 10;
    return r;
  }
  if (const FieldArray* a = v.as_array()) {
    json arr = json::array();
    for (const auto& e : *a) arr.push_back(field_value_to_json(e));
    return arr;
  }
  if (const FieldTable* t = v.as_table()) return field_table_to_json(*t);
  return nullptr;  // void
}

json field_table_to_json(const FieldTable& table) {
  json obj = json::object();
  for (const auto& [k, v] : table) obj[k] = field_value_to_json(v);
  return obj;
}

}  // namespace pulse::amqp
