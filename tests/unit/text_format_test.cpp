// Our exposition writer against prometheus-cpp's TextSerializer: both outputs parse to the
// same families, help, types, labels and values.
#include "text_format.h"

#include <gtest/gtest.h>
#include <prometheus/histogram.h>
#include <prometheus/summary.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cmath>
#include <tuple>
#include <limits>
#include <sstream>

#include "collect.h"
#include "exposition.h"
#include "node_scraper.h"

namespace xw {
namespace {

// Samples in a canonical order: prometheus-cpp writes a histogram's _count and _sum first.
std::vector<ParsedFamily> Canonical(std::vector<ParsedFamily> families) {
  for (auto& f : families) {
    std::sort(f.samples.begin(), f.samples.end(), [](const ParsedSample& a, const ParsedSample& b) {
      return std::tie(a.name, a.labels) < std::tie(b.name, b.labels);
    });
  }
  return families;
}

void ExpectSameExposition(const std::vector<prometheus::MetricFamily>& families) {
  std::ostringstream reference;
  prometheus::TextSerializer().Serialize(reference, families);
  const auto want = Canonical(ParseExposition(reference.str()));
  const auto got = Canonical(ParseExposition(TextFormat(families)));
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].name, want[i].name);
    EXPECT_EQ(got[i].help, want[i].help) << want[i].name;
    EXPECT_EQ(got[i].type, want[i].type) << want[i].name;
    ASSERT_EQ(got[i].samples.size(), want[i].samples.size()) << want[i].name;
    for (std::size_t j = 0; j < want[i].samples.size(); ++j) {
      const auto& a = got[i].samples[j];
      const auto& b = want[i].samples[j];
      EXPECT_EQ(a.name, b.name);
      EXPECT_EQ(a.labels, b.labels) << a.name;
      if (std::isnan(b.value)) {
        EXPECT_TRUE(std::isnan(a.value)) << a.name;
      } else if (std::isinf(b.value)) {
        EXPECT_EQ(a.value, b.value) << a.name;
      } else {
        // prometheus-cpp prints 16 significant digits, one short of a round trip; ours is exact.
        EXPECT_NEAR(a.value, b.value, std::abs(b.value) * 1e-15) << a.name;
      }
    }
  }
}

TEST(TextFormat, MatchesPrometheusCppOnEveryType) {
  std::vector<prometheus::MetricFamily> families;
  prometheus::MetricFamily c{"c_total", "Help with \\ backslash.", prometheus::MetricType::Counter, {}};
  prometheus::ClientMetric m;
  m.label = {{"path", "C:\\dir \"quoted\"\nnext"}, {"empty", ""}};
  m.counter.value = 270553174016.0;
  c.metric.push_back(m);
  m.label = {{"path", "x"}};
  m.counter.value = 0.1;
  c.metric.push_back(m);
  families.push_back(c);
  prometheus::MetricFamily g{"g", "", prometheus::MetricType::Gauge, {}};
  for (double v : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                   -std::numeric_limits<double>::infinity(), 1.795431542947454e+09, -0.0, 1e-300,
                   // integers: printed as such below 2^53, in shortest form from there on
                   123000000.0, -5.0, 9007199254740991.0, 9007199254740992.0, 1e300}) {
    prometheus::ClientMetric gm;
    gm.label = {{"i", std::to_string(g.metric.size())}};
    gm.gauge.value = v;
    g.metric.push_back(gm);
  }
  families.push_back(g);
  prometheus::MetricFamily u{"u", "untyped", prometheus::MetricType::Untyped, {}};
  prometheus::ClientMetric um;
  um.untyped.value = 42;
  u.metric.push_back(um);
  families.push_back(u);

  prometheus::Histogram h({0.1, 1, 10});
  for (double v : {0.05, 0.5, 5.0, 50.0}) h.Observe(v);
  prometheus::MetricFamily hf{"h_seconds", "A histogram.", prometheus::MetricType::Histogram, {h.Collect()}};
  hf.metric[0].label = {{"phase", "auth"}};
  families.push_back(hf);
  prometheus::Summary s(prometheus::Summary::Quantiles{{0.5, 0.05}, {0.99, 0.001}});
  for (double v : {1.0, 2.0, 3.0}) s.Observe(v);
  families.push_back(prometheus::MetricFamily{"s", "A summary.", prometheus::MetricType::Summary, {s.Collect()}});
  ExpectSameExposition(families);
}

// prometheus-cpp leaves a newline in HELP unescaped, which breaks its own output; ours escapes it.
TEST(TextFormat, EscapesNewlineInHelpAndRoundTripsDoubles) {
  prometheus::MetricFamily f{"g", "two\nlines", prometheus::MetricType::Gauge, {}};
  prometheus::ClientMetric m;
  m.gauge.value = 1.795431542947454e+09 + 1e-7;
  f.metric.push_back(m);
  const std::string text = TextFormat({f});
  EXPECT_NE(text.find("# HELP g two\\nlines\n"), std::string::npos) << text;
  const auto parsed = ParseExposition(text);
  EXPECT_EQ(parsed[0].samples[0].value, m.gauge.value);
}

// The exact text: escapes only where the format asks for them (a quote only inside label
// values), other bytes (a NUL too) as they are; integers below 2^53 as integers (123000000,
// where the shortest form is 1.23e+08), the rest in shortest round-trip form.
TEST(TextFormat, EscapesAndIntegersExactly) {
  prometheus::MetricFamily f{"g", "say \"hi\" \\ now", prometheus::MetricType::Gauge, {}};
  prometheus::ClientMetric m;
  m.label = {{"v", std::string("a\"b\\c\nd\0e", 9)}, {"w", "plain"}};
  for (double v : {123000000.0, -5.0, 0.0, -0.0, 9007199254740992.0, 1e300, 0.25}) {
    m.gauge.value = v;
    f.metric.push_back(m);
  }
  using std::string_literals::operator""s;
  const std::string labels = "{v=\"a\\\"b\\\\c\\nd\0e\",w=\"plain\"}"s;
  EXPECT_EQ(TextFormat({f}), "# HELP g say \"hi\" \\\\ now\n# TYPE g gauge\n"
                             "g" + labels + " 123000000\n"
                             "g" + labels + " -5\n"
                             "g" + labels + " 0\n"
                             "g" + labels + " -0\n"
                             "g" + labels + " 9007199254740992\n"
                             "g" + labels + " 1e+300\n"
                             "g" + labels + " 0.25\n");
}

TEST(TextFormat, MatchesPrometheusCppOnARealScrape) {
  std::vector<exporter::NodeScraper::Named> collectors;
  for (const char* name : {"cpu", "meminfo", "diskstats", "netdev", "filesystem", "stat", "time", "uname"}) {
    collectors.emplace_back(name, testing::MakeCollector(name, exporter::Paths{}));
  }
  ExpectSameExposition(exporter::NodeScraper(std::move(collectors)).Collect());
}

}  // namespace
}  // namespace xw
