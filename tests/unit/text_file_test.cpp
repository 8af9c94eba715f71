// The number parsers every collector uses (common/text_file.h).
#include "text_file.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <string>

namespace xw::testing {
namespace {

double FromChars(std::string_view s) {
  double v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// Plain integers take a digit-by-digit path: the value must be from_chars's, bit for bit.
TEST(ToDouble, IntegersAsFromChars) {
  for (const char* s : {"0", "7", "007", "-1", "-0", "4294967295", "123456789012345", "-999999999999999",
                        "1234567890123456", "18446744073709551615", "99999999999999999999999"}) {
    const auto v = ToDouble(s);
    ASSERT_TRUE(v) << s;
    EXPECT_EQ(*v, FromChars(s)) << s;
    EXPECT_EQ(std::signbit(*v), std::signbit(FromChars(s))) << s;
  }
}

TEST(ToDouble, FractionsExponentsAndJunk) {
  EXPECT_EQ(ToDouble("1.5"), 1.5);
  EXPECT_EQ(ToDouble("-2.5e3"), -2500);
  EXPECT_EQ(ToDouble("1e21"), 1e21);
  for (const char* s : {"", "-", "+1", "12x", "x12", "1 2", "--1", "0x10", " 1"}) EXPECT_FALSE(ToDouble(s)) << s;
}

}  // namespace
}  // namespace xw::testing
