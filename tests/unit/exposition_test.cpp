#include "exposition.h"

#include <gtest/gtest.h>

#include <cmath>

namespace xw {
namespace {

TEST(Exposition, ParsesFamiliesLabelsAndSpecialValues) {
  const auto f = ParseExposition(
      "# HELP a_total Things.\n# TYPE a_total counter\na_total{x=\"1\",y=\"q\\\"\\\\\"} 3\n"
      "b NaN\nc{} +Inf 1700000000000\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_sum 3\nh_count 2\n");
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[0].type, "counter");
  EXPECT_EQ(f[0].help, "Things.");
  EXPECT_EQ(f[0].samples[0].labels.at("y"), "q\"\\");
  EXPECT_TRUE(std::isnan(f[1].samples[0].value));
  EXPECT_TRUE(std::isinf(f[2].samples[0].value));
  EXPECT_EQ(f[3].name, "h");
  EXPECT_EQ(f[3].samples.size(), 3u);
}

TEST(Exposition, RejectsMalformedLinesNamingTheLine) {
  for (const char* bad : {"1abc 3\n", "a{x=1} 3\n", "a{x=\"1} 3\n", "a three\n", "a 1\na 2\n", "a 1\n# TYPE a gauge\n",
                          "# TYPE a wobbly\n", "a{x=\"1\",x=\"2\"} 1\n"}) {
    try {
      ParseExposition(bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const ParseError& e) {
      EXPECT_NE(std::string(e.what()).find("line "), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace xw

namespace xw {
namespace {

TEST(Exposition, HelpEscapes) {
  const auto f = ParseExposition("# HELP a one\\\\two\\nthree \\q\na 1\n");
  EXPECT_EQ(f[0].help, "one\\two\nthree \\q");
}

}  // namespace
}  // namespace xw
