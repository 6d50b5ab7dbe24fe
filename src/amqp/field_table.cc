#include "amqp/field_table.h"

#include <bit>

namespace pulse::amqp {

namespace {
constexpr char kTags[] = {'t', 'b', 'B', 's', 'u', 'I', 'i', 'l', 'f',
                          'd', 'D', 'S', 'A', 'T', 'F', 'V', 'x'};
}

char FieldValue::tag() const {
  return kTags[v.index()];
}

std::optional<int64_t> FieldValue::as_int() const {
  return std::visit(
      [](const auto& x) -> std::optional<int64_t> {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
          return static_cast<int64_t>(x);
        } else {
          return std::nullopt;
        }
      },
      v);
}

static bool decode_array(ByteReader& r, FieldArray& out, int depth) {
  uint32_t len;
  std::string_view body;
  if (!r.u32(len) || !r.bytes(len, body)) return false;
  ByteReader sub(body.data(), body.size());
  while (!sub.empty()) {
    FieldValue v;
    if (!decode_value(sub, v, depth + 1)) return false;
    out.push_back(std::move(v));
  }
  return true;
}

bool decode_value(ByteReader& r, FieldValue& out, int depth) {
  if (depth > kMaxFieldDepth) return false;
  uint8_t tag;
  if (!r.u8(tag)) return false;
  switch (tag) {
    case 't': {
      uint8_t b;
      if (!r.u8(b)) return false;
      out.v = b != 0;
      return true;
    }
    case 'b': {
      uint8_t b;
      if (!r.u8(b)) return false;
      out.v = static_cast<int8_t>(b);
      return true;
    }
    case 'B': {
      uint8_t b;
      if (!r.u8(b)) return false;
      out.v = b;
      return true;
    }
    case 's': {
      uint16_t x;
      if (!r.u16(x)) return false;
      out.v = static_cast<int16_t>(x);
      return true;
    }
    case 'u': {
      uint16_t x;
      if (!r.u16(x)) return false;
      out.v = x;
      return true;
    }
    case 'I': {
      uint32_t x;
      if (!r.u32(x)) return false;
      out.v = static_cast<int32_t>(x);
      return true;
    }
    case 'i': {
      uint32_t x;
      if (!r.u32(x)) return false;
      out.v = x;
      return true;
    }
    case 'l': {
      uint64_t x;
      if (!r.u64(x)) return false;
      out.v = static_cast<int64_t>(x);
      return true;
    }
    case 'f': {
      uint32_t x;
      if (!r.u32(x)) return false;
      out.v = std::bit_cast<float>(x);
      return true;
    }
    case 'd': {
      uint64_t x;
      if (!r.u64(x)) return false;
      out.v = std::bit_cast<double>(x);
      return true;
    }
    case 'D': {
      Decimal d;
      if (!r.u8(d.scale) || !r.u32(d.value)) return false;
      out.v = d;
      return true;
    }
    case 'S': {
      std::string s;
      if (!r.longstr(s)) return false;
      out.v = std::move(s);
      return true;
    }
    case 'x': {
      ByteArray b;
      if (!r.longstr(b.bytes)) return false;
      out.v = std::move(b);
      return true;
    }
    case 'A': {
      FieldArray a;
      if (!decode_array(r, a, depth)) return false;
      out.v = std::move(a);
      return true;
    }
    case 'T': {
      Timestamp t;
      if (!r.u64(t.value)) return false;
      out.v = t;
      return true;
    }
    case 'F': {
      FieldTable t;
      // decode_table counts its own level for its values, as decode_array does; adding one
      // here too made nested tables hit kMaxFieldDepth at half the nesting of arrays.
      if (!decode_table(r, t, depth)) return false;
      out.v = std::move(t);
      return true;
    }
    case 'V':
      out.v = Void{};
      return true;
    default:
      return false;
  }
}

bool decode_table(ByteReader& r, FieldTable& out, int depth) {
  if (depth > kMaxFieldDepth) return false;
  uint32_t len;
  std::string_view body;
  if (!r.u32(len) || !r.bytes(len, body)) return false;
  ByteReader sub(body.data(), body.size());
  while (!sub.empty()) {
    std::string key;
    if (!sub.shortstr(key)) return false;
    FieldValue v;
    if (!decode_value(sub, v, depth + 1)) return false;
    out.emplace_back(std::move(key), std::move(v));
  }
  return true;
}

void encode_value(ByteWriter& w, const FieldValue& fv) {
  w.u8(static_cast<uint8_t>(fv.tag()));
  std::visit(
      [&w](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) {
          w.u8(x ? 1 : 0);
        } else if constexpr (std::is_same_v<T, int8_t> || std::is_same_v<T, uint8_t>) {
          w.u8(static_cast<uint8_t>(x));
        } else if constexpr (std::is_same_v<T, int16_t> || std::is_same_v<T, uint16_t>) {
          w.u16(static_cast<uint16_t>(x));
        } else if constexpr (std::is_same_v<T, int32_t> || std::is_same_v<T, uint32_t>) {
          w.u32(static_cast<uint32_t>(x));
        } else if constexpr (std::is_same_v<T, int64_t>) {
          w.u64(static_cast<uint64_t>(x));
        } else if constexpr (std::is_same_v<T, float>) {
          w.u32(std::bit_cast<uint32_t>(x));
        } else if constexpr (std::is_same_v<T, double>) {
          w.u64(std::bit_cast<uint64_t>(x));
        } else if constexpr (std::is_same_v<T, Decimal>) {
          w.u8(x.scale);
          w.u32(x.value);
        } else if constexpr (std::is_same_v<T, std::string>) {
          w.longstr(x);
        } else if constexpr (std::is_same_v<T, ByteArray>) {
          w.longstr(x.bytes);
        } else if constexpr (std::is_same_v<T, FieldArray>) {
          size_t at = w.size();
          w.u32(0);
          for (const auto& e : x) encode_value(w, e);
          w.patch_u32(at, static_cast<uint32_t>(w.size() - at - 4));
        } else if constexpr (std::is_same_v<T, Timestamp>) {
          w.u64(x.value);
        } else if constexpr (std::is_same_v<T, FieldTable>) {
          encode_table(w, x);
        } else {
          static_assert(std::is_same_v<T, Void>);
        }
      },
      fv.v);
}

void encode_table(ByteWriter& w, const FieldTable& t) {
  size_t at = w.size();
  w.u32(0);
  for (const auto& [k, v] : t) {
    w.shortstr(k);
    encode_value(w, v);
  }
  w.patch_u32(at, static_cast<uint32_t>(w.size() - at - 4));
}

const FieldValue* find(const FieldTable& t, std::string_view key) {
  for (const auto& [k, v] : t)
    if (k == key) return &v;
  return nullptr;
}

FieldValue* find(FieldTable& t, std::string_view key) {
  for (auto& [k, v] : t)
    if (k == key) return &v;
  return nullptr;
}

void set(FieldTable& t, std::string_view key, FieldValue v) {
  if (auto* existing = find(t, key)) {
    *existing = std::move(v);
  } else {
    t.emplace_back(std::string(key), std::move(v));
  }
}

bool erase(FieldTable& t, std::string_view key) {
  for (auto it = t.begin(); it != t.end(); ++it) {
    if (it->first == key) {
      t.erase(it);
      return true;
    }
  }
  return false;
}

}  // namespace pulse::amqp
