#pragma once
// AMQP field tables with every type RabbitMQ clients send (t b B s u I i l f d D S A T F V x).
// Tables keep their entries in wire order and every value keeps its type tag, so a table decodes
// and re-encodes byte-exact.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/bytes.h"

namespace pulse::amqp {

struct FieldValue;
using FieldTable = std::vector<std::pair<std::string, FieldValue>>;
using FieldArray = std::vector<FieldValue>;

struct Decimal {
  uint8_t scale = 0;
  uint32_t value = 0;
  bool operator==(const Decimal&) const = default;
};

struct Void {
  bool operator==(const Void&) const = default;
};

// Distinguishes 'x' (byte array) from 'S' (long string) so both round-trip.
struct ByteArray {
  std::string bytes;
  bool operator==(const ByteArray&) const = default;
};

struct Timestamp {
  uint64_t value = 0;
  bool operator==(const Timestamp&) const = default;
};

struct FieldValue {
  using Variant = std::variant<bool, int8_t, uint8_t, int16_t, uint16_t, int32_t, uint32_t, int64_t,
                               float, double, Decimal, std::string, FieldArray, Timestamp,
                               FieldTable, Void, ByteArray>;
  Variant v;

  FieldValue() : v(Void{}) {}
  template <typename T>
  requires std::is_constructible_v<Variant, T&&> FieldValue(T&& x) : v(std::forward<T>(x)) {}
  FieldValue(const char* s) : v(std::string(s)) {}

  char tag() const;
  bool operator==(const FieldValue& o) const { return v == o.v; }

  const std::string* as_string() const { return std::get_if<std::string>(&v); }
  const FieldTable* as_table() const { return std::get_if<FieldTable>(&v); }
  const FieldArray* as_array() const { return std::get_if<FieldArray>(&v); }
  const bool* as_bool() const { return std::get_if<bool>(&v); }
  // Any integer type, widened; nullopt for non-integers.
  std::optional<int64_t> as_int() const;
};

// Nested tables/arrays deeper than this are refused, so hostile input cannot blow the stack
// (decoding, copying and freeing recurse; an unoptimised build uses ~400 bytes a level).
// RabbitMQ has no limit and clients do send headers ~1000 levels deep, which must round-trip.
inline constexpr int kMaxFieldDepth = 2048;

// Decodes a table (u32 length + entries). False on truncation, an unknown tag or excess depth.
bool decode_table(ByteReader& r, FieldTable& out, int depth = 0);
void encode_table(ByteWriter& w, const FieldTable& t);
bool decode_value(ByteReader& r, FieldValue& out, int depth);
void encode_value(ByteWriter& w, const FieldValue& v);

const FieldValue* find(const FieldTable& t, std::string_view key);
FieldValue* find(FieldTable& t, std::string_view key);
void set(FieldTable& t, std::string_view key, FieldValue v);
bool erase(FieldTable& t, std::string_view key);

}  // namespace pulse::amqp
