// Field tables: every type tag round-trips byte-exact; nesting, the depth limit, truncation and
// unknown tags are handled without reading past the input.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <string>

#include "amqp/field_table.h"
#include "test_util.h"

namespace pulse::amqp {
namespace {

using testing::as_span;
using testing::bytes;
using testing::hex;

// Wraps one encoded value as the only entry of a table keyed "k".
std::string table_with(std::string_view value) {
  std::string body = bytes({0x01, 'k'}) + std::string(value);
  std::string out;
  ByteWriter w(out);
  w.u32(static_cast<uint32_t>(body.size()));
  w.bytes(body);
  return out;
}

struct TagCase {
  const char* name;
  std::string value;  // tag + encoded value
  FieldValue expected;
};

void PrintTo(const TagCase& c, std::ostream* os) {
  *os << c.name;
}

std::vector<TagCase> tag_cases() {
  return {
      {"t_true", bytes({'t', 0x01}), FieldValue(true)},
      {"t_false", bytes({'t', 0x00}), FieldValue(false)},
      {"b_min", bytes({'b', 0x80}), FieldValue(int8_t{-128})},
      {"B_max", bytes({'B', 0xff}), FieldValue(uint8_t{255})},
      {"s_min", bytes({'s', 0x80, 0x00}), FieldValue(int16_t{-32768})},
      {"u_max", bytes({'u', 0xff, 0xff}), FieldValue(uint16_t{65535})},
      {"I_neg", bytes({'I', 0xff, 0xff, 0xff, 0xfe}), FieldValue(int32_t{-2})},
      {"i_max", bytes({'i', 0xff, 0xff, 0xff, 0xff}), FieldValue(uint32_t{0xffffffff})},
      {"l_min", bytes({'l', 0x80, 0, 0, 0, 0, 0, 0, 0}), FieldValue(INT64_MIN)},
      {"f", bytes({'f', 0x3f, 0xc0, 0x00, 0x00}), FieldValue(1.5f)},
      {"d", bytes({'d', 0xc0, 0x04, 0, 0, 0, 0, 0, 0}), FieldValue(-2.5)},
      {"D", bytes({'D', 0x02, 0x00, 0x00, 0x01, 0x3a}), FieldValue(Decimal{2, 314})},
      {"S", bytes({'S', 0, 0, 0, 4, 'a', 0x00, 0xff, 'b'}),
       FieldValue(std::string("a\x00\xff"
                              "b",
                              4))},
      {"S_empty", bytes({'S', 0, 0, 0, 0}), FieldValue(std::string())},
      {"A_empty", bytes({'A', 0, 0, 0, 0}), FieldValue(FieldArray{})},
      {"A_mixed", bytes({'A', 0, 0, 0, 8, 'b', 0x01, 'V', 'S', 0, 0, 0, 0}),
       FieldValue(FieldArray{FieldValue(int8_t{1}), FieldValue(), FieldValue(std::string())})},
      {"T", bytes({'T', 0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00}), FieldValue(Timestamp{1700000000})},
      {"F_empty", bytes({'F', 0, 0, 0, 0}), FieldValue(FieldTable{})},
      {"F_nested", bytes({'F', 0, 0, 0, 4, 0x01, 'n', 'B', 0x07}),
       FieldValue(FieldTable{{"n", FieldValue(uint8_t{7})}})},
      {"V", bytes({'V'}), FieldValue()},
      {"x", bytes({'x', 0, 0, 0, 2, 0x00, 0xff}),
       FieldValue(ByteArray{std::string("\x00\xff", 2)})},
  };
}

class TagRoundTrip : public ::testing::TestWithParam<TagCase> {};

TEST_P(TagRoundTrip, DecodesTypedAndReencodesByteExact) {
  const TagCase& c = GetParam();
  const std::string wire = table_with(c.value);
  ByteReader r(as_span(wire));
  FieldTable t;
  ASSERT_TRUE(decode_table(r, t));
  EXPECT_TRUE(r.empty());
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].first, "k");
  EXPECT_EQ(t[0].second.tag(), c.value[0]);
  EXPECT_TRUE(t[0].second == c.expected);

  std::string out;
  ByteWriter w(out);
  encode_table(w, t);
  EXPECT_EQ(hex(out), hex(wire));

  // Building the value in code encodes to the same bytes.
  std::string built;
  ByteWriter w2(built);
  encode_table(w2, FieldTable{{"k", c.expected}});
  EXPECT_EQ(hex(built), hex(wire));
}

INSTANTIATE_TEST_SUITE_P(AllTags, TagRoundTrip, ::testing::ValuesIn(tag_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(FieldTable, EveryTagIsCovered) {
  std::string seen;
  for (const auto& c : tag_cases())
    if (seen.find(c.value[0]) == std::string::npos) seen += c.value[0];
  for (char tag : std::string("tbBsuIilfdDSATFVx"))
    EXPECT_NE(seen.find(tag), std::string::npos) << tag;
}

TEST(FieldTable, NanAndNegativeZeroKeepTheirBits) {
  for (uint64_t bits : {0x7ff8000000000001ull, 0x8000000000000000ull}) {
    std::string v = bytes({'d'});
    ByteWriter(v).u64(bits);
    const std::string wire = table_with(v);
    ByteReader r(as_span(wire));
    FieldTable t;
    ASSERT_TRUE(decode_table(r, t));
    std::string out;
    ByteWriter w(out);
    encode_table(w, t);
    EXPECT_EQ(hex(out), hex(wire));
  }
}

// A value nested `levels` tables deep: {"k": {"k": ... {"k": leaf}}}.
FieldTable nest_tables(int levels, FieldValue leaf) {
  FieldValue v = std::move(leaf);
  for (int i = 0; i < levels; ++i) v = FieldValue(FieldTable{{"k", std::move(v)}});
  return FieldTable{{"k", std::move(v)}};
}

FieldTable nest_arrays(int levels, FieldValue leaf) {
  FieldValue v = std::move(leaf);
  for (int i = 0; i < levels; ++i) v = FieldValue(FieldArray{std::move(v)});
  return FieldTable{{"k", std::move(v)}};
}

bool decodes(const FieldTable& t) {
  std::string wire;
  ByteWriter w(wire);
  encode_table(w, t);
  ByteReader r(as_span(wire));
  FieldTable out;
  if (!decode_table(r, out)) return false;
  EXPECT_TRUE(out == t);
  return true;
}

TEST(FieldTable, NestedTablesAndArraysRoundTrip) {
  FieldTable t{
      {"arr", FieldValue(FieldArray{FieldValue(FieldTable{{"a", FieldValue(FieldArray{})}}),
                                    FieldValue(FieldArray{FieldValue(int64_t{-1})})})},
      {"tbl", FieldValue(FieldTable{{"inner", FieldValue(FieldTable{{"x", FieldValue(1.0)}})}})},
      {"", FieldValue(std::string("empty key"))},
  };
  EXPECT_TRUE(decodes(t));
  EXPECT_TRUE(decodes(nest_tables(10, FieldValue(int32_t{1}))));
  EXPECT_TRUE(decodes(nest_arrays(10, FieldValue(std::string("leaf")))));
}

// A value at depth d sits inside d containers (the top-level table counts). Values deeper than
// kMaxFieldDepth are refused, whether the nesting is made of tables or arrays.
TEST(FieldTable, DepthLimitIsTheSameForTablesAndArrays) {
  const int deepest = kMaxFieldDepth - 1;  // nested containers under the top-level table
  EXPECT_TRUE(decodes(nest_tables(deepest, FieldValue(int32_t{1}))));
  EXPECT_TRUE(decodes(nest_arrays(deepest, FieldValue(int32_t{1}))));
  EXPECT_FALSE(decodes(nest_tables(deepest + 1, FieldValue(int32_t{1}))));
  EXPECT_FALSE(decodes(nest_arrays(deepest + 1, FieldValue(int32_t{1}))));
  EXPECT_FALSE(decodes(nest_tables(kMaxFieldDepth + 100, FieldValue())));
  EXPECT_FALSE(decodes(nest_arrays(kMaxFieldDepth + 100, FieldValue())));
  // RabbitMQ relays headers ~1000 levels deep (tests/integration/test_hostile.py).
  EXPECT_TRUE(decodes(nest_tables(1000, FieldValue())));
}

TEST(FieldTable, HostileDepthIsRefusedWithoutRecursingThroughIt) {
  // 100000 nested array headers claiming to contain each other: refused at the limit, not after
  // 100000 stack frames.
  const int n = 100000;
  std::string wire;
  ByteWriter w(wire);
  w.u32(static_cast<uint32_t>(2 + 5 * n));
  w.u8(1);
  w.u8('k');
  for (int i = 0; i < n; ++i) {
    w.u8('A');
    w.u32(static_cast<uint32_t>(5 * (n - i - 1)));
  }
  ByteReader r(as_span(wire));
  FieldTable t;
  EXPECT_FALSE(decode_table(r, t));
}

TEST(FieldTable, EveryTruncationIsRefused) {
  FieldTable t{{"s", FieldValue(std::string("str"))},
               {"n", FieldValue(FieldTable{{"a", FieldValue(FieldArray{FieldValue(1.5f)})}})},
               {"l", FieldValue(int64_t{7})}};
  std::string wire;
  ByteWriter w(wire);
  encode_table(w, t);
  for (size_t n = 0; n < wire.size(); ++n) {
    ByteReader r(as_span(std::string_view(wire).substr(0, n)));
    FieldTable out;
    EXPECT_FALSE(decode_table(r, out)) << "prefix " << n;
  }
  // The outer length is intact but the last value is cut short inside it.
  std::string cut = wire.substr(0, wire.size() - 1);
  ByteWriter(cut).patch_u32(0, static_cast<uint32_t>(cut.size() - 4));
  ByteReader r(as_span(cut));
  FieldTable out;
  EXPECT_FALSE(decode_table(r, out));
}

TEST(FieldTable, UnknownTagsAreRefused) {
  for (char tag : std::string("ZUcLa\x00\xff", 7)) {
    const std::string wire = table_with(std::string(1, tag) + std::string(8, '\0'));
    ByteReader r(as_span(wire));
    FieldTable out;
    EXPECT_FALSE(decode_table(r, out)) << static_cast<int>(tag);
  }
  // ...and inside arrays.
  const std::string wire = table_with(bytes({'A', 0, 0, 0, 2, 'Z', 0}));
  ByteReader r(as_span(wire));
  FieldTable out;
  EXPECT_FALSE(decode_table(r, out));
}

TEST(FieldTable, Helpers) {
  FieldTable t;
  set(t, "a", FieldValue(int16_t{5}));
  set(t, "b", FieldValue("text"));
  set(t, "a", FieldValue(uint32_t{6}));
  ASSERT_EQ(t.size(), 2u);
  ASSERT_NE(find(t, "a"), nullptr);
  EXPECT_EQ(find(t, "a")->as_int(), 6);
  EXPECT_EQ(*find(t, "b")->as_string(), "text");
  EXPECT_EQ(find(t, "c"), nullptr);
  EXPECT_FALSE(FieldValue(true).as_int().has_value());
  EXPECT_TRUE(amqp::erase(t, "a"));  // qualified: std::erase is found by ADL
  EXPECT_FALSE(amqp::erase(t, "a"));
  EXPECT_EQ(t.size(), 1u);
}

}  // namespace
}  // namespace pulse::amqp
