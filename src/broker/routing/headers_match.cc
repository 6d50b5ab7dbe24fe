#include "broker/routing/headers_match.h"

#include <optional>
#include <type_traits>
#include <variant>

namespace pulse::broker {

using amqp::FieldTable;
using amqp::FieldValue;

XMatch x_match_mode(const FieldTable& binding_args) {
  const FieldValue* v = amqp::find(binding_args, "x-match");
  const std::string* s = v ? v->as_string() : nullptr;
  if (s == nullptr) return XMatch::kAll;
  if (*s == "any") return XMatch::kAny;
  if (*s == "all-with-x") return XMatch::kAllWithX;
  if (*s == "any-with-x") return XMatch::kAnyWithX;
  return XMatch::kAll;
}

namespace {

// Erlang decodes every AMQP integer type and timestamps to integers and 'f'/'d' to floats, and
// `==` compares numbers by value regardless of type. __int128 holds every int64 and uint64.
struct Number {
  bool is_float = false;
  __int128 i = 0;
  double f = 0;
};

std::optional<Number> as_number(const FieldValue& v) {
  return std::visit(
      [](const auto& x) -> std::optional<Number> {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) {
          return std::nullopt;
        } else if constexpr (std::is_integral_v<T>) {
          return Number{false, static_cast<__int128>(x), 0};
        } else if constexpr (std::is_floating_point_v<T>) {
          return Number{true, 0, static_cast<double>(x)};
        } else if constexpr (std::is_same_v<T, amqp::Timestamp>) {
          return Number{false, static_cast<__int128>(x.value), 0};
        } else {
          return std::nullopt;
        }
      },
      v.v);
}

// Long strings and byte arrays are both Erlang binaries.
const std::string* as_binary(const FieldValue& v) {
  if (const auto* s = std::get_if<std::string>(&v.v)) return s;
  if (const auto* b = std::get_if<amqp::ByteArray>(&v.v)) return &b->bytes;
  return nullptr;
}

}  // namespace

bool header_values_equal(const FieldValue& binding, const FieldValue& header) {
  auto a = as_number(binding);
  auto b = as_number(header);
  if (a || b) {
    if (!a || !b) return false;
    if (!a->is_float && !b->is_float) return a->i == b->i;
    const double x = a->is_float ? a->f : static_cast<double>(a->i);
    const double y = b->is_float ? b->f : static_cast<double>(b->i);
    return x == y;
  }
  const std::string* sa = as_binary(binding);
  const std::string* sb = as_binary(header);
  if (sa || sb) return sa && sb && *sa == *sb;
  // Booleans, decimals, void, and nested tables/arrays: inside a table or array Erlang keeps each
  // value's type tag, so structural equality with types is exactly FieldValue's ==.
  return binding == header;
}

bool headers_match(const FieldTable& binding_args, const FieldTable* message_headers) {
  const XMatch mode = x_match_mode(binding_args);
  const bool with_x = mode == XMatch::kAllWithX || mode == XMatch::kAnyWithX;
  const bool all = mode == XMatch::kAll || mode == XMatch::kAllWithX;
  for (const auto& [key, want] : binding_args) {
    if (key == "x-match") continue;
    if (!with_x && key.starts_with("x-")) continue;
    const FieldValue* have = message_headers ? amqp::find(*message_headers, key) : nullptr;
    const bool ok = have != nullptr && (std::holds_alternative<amqp::Void>(want.v) ||
                                        header_values_equal(want, *have));
    if (all && !ok) return false;
    if (!all && ok) return true;
  }
  return all;
}

}  // namespace pulse::broker
