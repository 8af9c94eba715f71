// Our exposition writer against prometheus-cpp's TextSerializer: both outputs parse to the
// same families, help, types, labels and values.
#include "text_format.h"

#include <gtest/gtest.h>
#include <prometheus/histogram.h>
#include <prometheus/summary.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <tuple>

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
  EXPECT_EQ(TextFormat({f}),
            "# HELP g say \"hi\" \\\\ now\n# TYPE g gauge\n"
            "g" +
                labels +
                " 123000000\n"
                "g" +
                labels +
                " -5\n"
                "g" +
                labels +
                " 0\n"
                "g" +
                labels +
                " -0\n"
                "g" +
                labels +
                " 9007199254740992\n"
                "g" +
                labels +
                " 1e+300\n"
                "g" +
                labels + " 0.25\n");
}

TEST(TextFormat, MatchesPrometheusCppOnARealScrape) {
  std::vector<exporter::NodeScraper::Named> collectors;
  for (const char* name : {"cpu", "meminfo", "diskstats", "netdev", "filesystem", "stat", "time", "uname"}) {
    collectors.emplace_back(name, testing::MakeCollector(name, exporter::Paths{}));
  }
  ExpectSameExposition(exporter::NodeScraper(std::move(collectors)).Collect());
}

prometheus::MetricFamily GaugeFamily(std::string name, std::string help,
                                     std::vector<std::vector<prometheus::ClientMetric::Label>> series) {
  prometheus::MetricFamily f{std::move(name), std::move(help), prometheus::MetricType::Gauge, {}};
  double v = 1;
  for (auto& labels : series) {
    prometheus::ClientMetric m;
    m.label = std::move(labels);
    m.gauge.value = v++;
    f.metric.push_back(std::move(m));
  }
  return f;
}

TEST(Utf8, ValidAndInvalidSequences) {
  for (const char* good : {"", "plain ascii, long enough for the 8-byte step", "caf\xC3\xA9", "\xE2\x82\xAC",
                           "\xF0\x9F\x98\x80", "\xEF\xBF\xBD", "\xF4\x8F\xBF\xBF"}) {
    EXPECT_TRUE(IsValidUtf8(good)) << good;
  }
  for (const char* bad : {"\xFF", "abc\x80", "\xC3", "\xC0\xAF" /* overlong */, "\xED\xA0\x80" /* surrogate */,
                          "\xF4\x90\x80\x80" /* > U+10FFFF */, "0123456789\xE2\x82", "\xF8\x88\x80\x80\x80"}) {
    EXPECT_FALSE(IsValidUtf8(bad)) << bad;
  }
  EXPECT_EQ(ToValidUtf8("a\xFF\xFE"
                        "b\xC3\xA9"),
            "a\xEF\xBF\xBD"
            "b\xC3\xA9");  // one U+FFFD per bad run
}

// One invalid byte costs its own series, counted; the family's other series, the other
// families and the HELP text (repaired) stay.
TEST(TextFormat, SeriesWithInvalidUtf8LabelIsDroppedAlone) {
  std::vector<prometheus::MetricFamily> families;
  families.push_back(GaugeFamily("mixed", "Help with a bad \xFF byte.",
                                 {{{"user", "alice"}}, {{"user", "b\xFFob"}}, {{"user", "caf\xC3\xA9"}}}));
  families.push_back(GaugeFamily("all_bad", "Only bad series.", {{{"x", "\xC0"}}}));
  families.push_back(GaugeFamily("fine", "Fine.", {{}}));
  TextFormatStats stats;
  const std::string text = TextFormat(families, &stats);
  EXPECT_TRUE(IsValidUtf8(text)) << text;
  EXPECT_EQ(stats.invalid_utf8_series, 2u);
  EXPECT_EQ(stats.first_invalid, "mixed");
  const auto parsed = ParseExposition(text);  // parses: no half-written line
  ASSERT_EQ(parsed.size(), 2u) << text;       // all_bad leaves no HELP/TYPE behind
  EXPECT_EQ(parsed[0].name, "mixed");
  EXPECT_EQ(parsed[0].help, "Help with a bad \xEF\xBF\xBD byte.");
  ASSERT_EQ(parsed[0].samples.size(), 2u);
  EXPECT_EQ(parsed[0].samples[0].labels.at("user"), "alice");
  EXPECT_EQ(parsed[0].samples[1].labels.at("user"), "caf\xC3\xA9");
  EXPECT_EQ(parsed[1].name, "fine");
}

// A collector emitting a bad label: only that series goes, the scrape is served, and the drop
// is counted for that collector in xmppwatch_exporter_invalid_utf8_series_total.
class BadLabelCollector : public exporter::Collector {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    return {GaugeFamily("udp_metric", "From a datagram.", {{{"node", "ej1"}}, {{"node", "ej\xFE"}}})};
  }
};

TEST(TextFormat, ScraperCountsInvalidSeriesPerCollector) {
  std::vector<exporter::NodeScraper::Named> collectors;
  collectors.emplace_back("bad_label", std::make_unique<BadLabelCollector>());
  collectors.emplace_back("loadavg", testing::MakeCollector("loadavg", testing::FixturePaths()));
  const exporter::NodeScraper scraper(std::move(collectors));
  for (int scrape = 1; scrape <= 2; ++scrape) {
    std::string text;
    scraper.AppendText(text, {{"extra", {GaugeFamily("extra_metric", "x", {{{"v", "\xFF"}}, {{"v", "ok"}}})}}});
    ASSERT_TRUE(IsValidUtf8(text));
    const auto parsed = ParseExposition(text);
    auto value = [&](const std::string& name, const std::map<std::string, std::string>& labels) {
      for (const auto& f : parsed) {
        for (const auto& s : f.samples) {
          if (s.name == name && s.labels == labels) return s.value;
        }
      }
      return -1.0;
    };
    EXPECT_EQ(value("udp_metric", {{"node", "ej1"}}), 1);
    EXPECT_EQ(value("node_load1", {}), 0.25);
    EXPECT_EQ(value("extra_metric", {{"v", "ok"}}), 2);
    EXPECT_EQ(value("node_scrape_collector_success", {{"collector", "bad_label"}}), 1);
    EXPECT_EQ(value("xmppwatch_exporter_invalid_utf8_series_total", {{"collector", "bad_label"}}), scrape);
    EXPECT_EQ(value("xmppwatch_exporter_invalid_utf8_series_total", {{"collector", "extra"}}), scrape);
    EXPECT_EQ(value("xmppwatch_exporter_invalid_utf8_series_total", {{"collector", "loadavg"}}), 0);
  }
}

}  // namespace
}  // namespace xw
