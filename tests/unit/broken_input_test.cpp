// Malformed and truncated /proc files: the collector fails with an error naming the file,
// the scrape reports success 0 for it and every other collector still succeeds.
#include <gtest/gtest.h>

#include "collect.h"
#include "node_scraper.h"
#include "procfs/proc_stat.h"
#include "text_file.h"
#include "text_format.h"

namespace xw::testing {
namespace {

struct BrokenCase {
  std::string collector;
  std::string file;  // the file the error message must name
};

class BrokenInput : public ::testing::TestWithParam<BrokenCase> {};

TEST_P(BrokenInput, FailsNamingTheFile) {
  const auto& c = GetParam();
  try {
    Collect(c.collector, FixturePaths("broken"));
    FAIL() << c.collector << " accepted a broken " << c.file;
  } catch (const ParseError& e) {
    EXPECT_NE(std::string(e.what()).find(c.file), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Collectors, BrokenInput,
    ::testing::Values(BrokenCase{"cpu", "broken/proc/stat"}, BrokenCase{"stat", "broken/proc/stat"},
                      BrokenCase{"loadavg", "broken/proc/loadavg"}, BrokenCase{"meminfo", "broken/proc/meminfo"},
                      BrokenCase{"diskstats", "broken/proc/diskstats"}, BrokenCase{"netdev", "broken/proc/net/dev"},
                      BrokenCase{"pressure", "broken/proc/pressure/cpu"},
                      BrokenCase{"filesystem", "broken/proc/1/mounts"}),
    [](const auto& info) { return info.param.collector; });

// Issue 8's collectors: truncated rows, extra columns, non-numbers.
INSTANTIATE_TEST_SUITE_P(
    NodeCollectors, BrokenInput,
    ::testing::Values(BrokenCase{"netstat", "broken/proc/net/netstat"},
                      BrokenCase{"sockstat", "broken/proc/net/sockstat"},
                      BrokenCase{"softnet", "broken/proc/net/softnet_stat"},
                      BrokenCase{"udp_queues", "broken/proc/net/udp"}, BrokenCase{"arp", "broken/proc/net/arp"},
                      BrokenCase{"conntrack", "broken/proc/net/stat/nf_conntrack"},
                      BrokenCase{"filefd", "broken/proc/sys/fs/file-nr"},
                      BrokenCase{"entropy", "broken/proc/sys/kernel/random/entropy_avail"},
                      BrokenCase{"vmstat", "broken/proc/vmstat"}, BrokenCase{"interrupts", "broken/proc/interrupts"},
                      BrokenCase{"schedstat", "broken/proc/schedstat"}, BrokenCase{"mdadm", "broken/proc/mdstat"}),
    [](const auto& info) { return info.param.collector; });

TEST(BrokenInput, MissingFileNamesIt) {
  exporter::Paths p = FixturePaths();
  p.procfs = FixtureDir() + "/does-not-exist";
  try {
    Collect("loadavg", p);
    FAIL();
  } catch (const ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("does-not-exist/loadavg"), std::string::npos) << e.what();
  }
}

// Half-written lines, as a reader racing a writer could see them.
TEST(BrokenInput, TruncatedLinesAreErrors) {
  EXPECT_THROW(exporter::ParseProcStat("cpu0 1 2", "t"), ParseError);
  EXPECT_THROW(exporter::ParseProcStat("cpu0 1 2 3 4\nctxt 12x", "t"), ParseError);
  EXPECT_NO_THROW(exporter::ParseProcStat("cpu0 1 2 3 4\nctxt 12", "t"));
}

TEST(NodeScraper, OneBrokenCollectorDoesNotBreakTheOthers) {
  std::vector<exporter::NodeScraper::Named> collectors;
  // Broken tree for loadavg, good tree for cpu and uname.
  collectors.emplace_back("loadavg", MakeCollector("loadavg", FixturePaths("broken")));
  collectors.emplace_back("cpu", MakeCollector("cpu", FixturePaths()));
  collectors.emplace_back("uname", MakeCollector("uname", FixturePaths()));
  const auto f = exporter::NodeScraper(std::move(collectors)).Collect();
  EXPECT_EQ(*Value(f, "node_scrape_collector_success", {{"collector", "loadavg"}}), 0);
  EXPECT_EQ(*Value(f, "node_scrape_collector_success", {{"collector", "cpu"}}), 1);
  EXPECT_EQ(*Value(f, "node_scrape_collector_success", {{"collector", "uname"}}), 1);
  EXPECT_TRUE(Value(f, "node_scrape_collector_duration_seconds", {{"collector", "loadavg"}}));
  EXPECT_EQ(FindFamily(f, "node_load1"), nullptr);  // nothing half-reported
  EXPECT_NE(FindFamily(f, "node_cpu_seconds_total"), nullptr);
}

// A collector without a source on this host (here: mdadm and hwmon on an empty tree) is
// skipped on its NoSource() answer: success 0, no families, the others served.
TEST(NodeScraper, CollectorsWithoutASourceReportNoData) {
  exporter::Paths empty = FixturePaths();
  empty.procfs = empty.sysfs = FixtureDir() + "/empty";
  std::vector<exporter::NodeScraper::Named> collectors;
  collectors.emplace_back("mdadm", MakeCollector("mdadm", empty));
  collectors.emplace_back("hwmon", MakeCollector("hwmon", empty));
  collectors.emplace_back("mdadm_here", MakeCollector("mdadm", FixturePaths()));
  const auto f = exporter::NodeScraper(std::move(collectors)).Collect();
  EXPECT_EQ(*Value(f, "node_scrape_collector_success", {{"collector", "mdadm"}}), 0);
  EXPECT_EQ(*Value(f, "node_scrape_collector_success", {{"collector", "hwmon"}}), 0);
  EXPECT_EQ(*Value(f, "node_scrape_collector_success", {{"collector", "mdadm_here"}}), 1);
  EXPECT_EQ(FindFamily(f, "node_md_state")->metric.size(),
            FindFamily(Collect("mdadm", FixturePaths()), "node_md_state")->metric.size());
}

// The scrape written collector by collector is the scrape collected whole and then written
// (durations aside, which differ from run to run), with a broken collector among them.
TEST(NodeScraper, AppendTextWritesWhatCollectGives) {
  auto make = [] {
    std::vector<exporter::NodeScraper::Named> collectors;
    collectors.emplace_back("loadavg", MakeCollector("loadavg", FixturePaths("broken")));
    for (const char* name : {"cpu", "meminfo", "netdev", "vmstat", "uname"}) {
      collectors.emplace_back(name, MakeCollector(name, FixturePaths()));
    }
    return collectors;
  };
  auto without_durations = [](const std::string& text) {
    std::string out;
    for (auto line : Lines(text)) {
      if (!line.starts_with("node_scrape_collector_duration_seconds{")) out.append(line).push_back('\n');
    }
    return out;
  };
  for (unsigned threads : {1U, 2U}) {
    const exporter::NodeScraper scraper(make(), threads);
    std::string streamed;
    scraper.AppendText(streamed);
    EXPECT_EQ(without_durations(streamed), without_durations(TextFormat(scraper.Collect()))) << threads;
    EXPECT_NE(streamed.find("node_scrape_collector_success{collector=\"loadavg\"} 0\n"), std::string::npos);
    EXPECT_NE(streamed.find("node_memory_MemTotal_bytes"), std::string::npos);
  }
}

// --scrape.threads: the same families in the same order as one after the other, scrape after
// scrape, with a broken collector among them.
TEST(NodeScraper, ThreadsGiveTheSameScrapeAsSequential) {
  auto make = [] {
    std::vector<exporter::NodeScraper::Named> collectors;
    collectors.emplace_back("loadavg", MakeCollector("loadavg", FixturePaths("broken")));
    for (const char* name : {"cpu", "meminfo", "netdev", "stat", "vmstat", "diskstats", "uname"}) {
      collectors.emplace_back(name, MakeCollector(name, FixturePaths()));
    }
    return collectors;
  };
  auto names = [](const std::vector<prometheus::MetricFamily>& f) {
    std::vector<std::string> out;
    for (const auto& family : f) out.push_back(family.name + "/" + std::to_string(family.metric.size()));
    return out;
  };
  const exporter::NodeScraper sequential(make(), 1);
  const exporter::NodeScraper parallel(make(), 3);
  const auto expected = names(sequential.Collect());
  for (int i = 0; i < 20; ++i) {
    const auto f = parallel.Collect();
    ASSERT_EQ(names(f), expected) << "scrape " << i;
    EXPECT_EQ(*Value(f, "node_scrape_collector_success", {{"collector", "loadavg"}}), 0);
    EXPECT_EQ(*Value(f, "node_scrape_collector_success", {{"collector", "vmstat"}}), 1);
  }
}

}  // namespace
}  // namespace xw::testing
