#include "base/config_lines.h"

#include <gtest/gtest.h>

namespace pulse {
namespace {

TEST(ConfigLines, SplitsKeysAndValuesSkippingCommentsAndBlankLines) {
  auto r = split_config_lines(
      "# a comment\n"
      "\n"
      "  pulse.guardian.interval = 5   # inline comment\n"
      "pulse.smtp.from='a#b@example.org'  # quoted keeps '#'\r\n"
      "\tkey-with_dash.x=  spaced value \n",
      "g.conf");
  ASSERT_TRUE(r) << r.error().text;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].line, 3u);
  EXPECT_EQ((*r)[0].key, "pulse.guardian.interval");
  EXPECT_EQ((*r)[0].value, "5");
  EXPECT_EQ((*r)[1].line, 4u);
  EXPECT_EQ((*r)[1].value, "a#b@example.org");
  EXPECT_EQ((*r)[2].key, "key-with_dash.x");
  EXPECT_EQ((*r)[2].value, "spaced value");
}

TEST(ConfigLines, RefusesMalformedLinesNamingFileAndLine) {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"a = 1\nno equals sign\n", "g.conf:2: expected 'key = value'"},
      {"a..b = 1\n", "g.conf:1: invalid key 'a..b'"},
      {".a = 1\n", "g.conf:1: invalid key '.a'"},
      {"a b = 1\n", "g.conf:1: invalid key 'a b'"},
      {" = 1\n", "g.conf:1: invalid key ''"},
      {"\n\na =\n", "g.conf:3: missing value for key 'a'"},
      {"a = # only a comment\n", "g.conf:1: missing value for key 'a'"},
      {"a = 'open\n", "g.conf:1: unterminated quoted value for key 'a'"},
      {"a = 'x' y\n", "g.conf:1: unterminated quoted value for key 'a'"},
  };
  for (const auto& c : cases) {
    auto r = split_config_lines(c.text, "g.conf");
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().text, c.error) << c.text;
  }
}

TEST(ConfigLines, EmptyQuotedValueIsAValue) {
  auto r = split_config_lines("a = ''\n", "f");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].value, "");
}

}  // namespace
}  // namespace pulse
