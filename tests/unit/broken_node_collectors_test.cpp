// Hand-made broken files for the node collectors of issue 8 (truncated rows, extra columns,
// non-numbers): each fails only its collector, with an error naming the file.
#include <gtest/gtest.h>

#include "collect.h"
#include "node_scraper.h"
#include "text_file.h"

namespace xw::testing {
namespace {

struct BrokenCase {
  std::string collector;
  std::string file;
};

class BrokenNodeInput : public ::testing::TestWithParam<BrokenCase> {};

TEST_P(BrokenNodeInput, FailsNamingTheFile) {
  const auto& c = GetParam();
  try {
    Collect(c.collector, FixturePaths("broken"));
    FAIL() << c.collector << " accepted a broken " << c.file;
  } catch (const ParseError& e) {
    EXPECT_NE(std::string(e.what()).find(c.file), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Collectors, BrokenNodeInput,
    ::testing::Values(BrokenCase{"netstat", "broken/proc/net/netstat"}, BrokenCase{"sockstat", "broken/proc/net/sockstat"},
                      BrokenCase{"softnet", "broken/proc/net/softnet_stat"}, BrokenCase{"udp_queues", "broken/proc/net/udp"},
                      BrokenCase{"arp", "broken/proc/net/arp"},
                      BrokenCase{"conntrack", "broken/proc/net/stat/nf_conntrack"},
                      BrokenCase{"filefd", "broken/proc/sys/fs/file-nr"},
                      BrokenCase{"entropy", "broken/proc/sys/kernel/random/entropy_avail"},
                      BrokenCase{"vmstat", "broken/proc/vmstat"}, BrokenCase{"interrupts", "broken/proc/interrupts"},
                      BrokenCase{"schedstat", "broken/proc/schedstat"}, BrokenCase{"mdadm", "broken/proc/mdstat"}),
    [](const auto& info) { return info.param.collector; });

TEST(BrokenNodeInput, NoDataIsReportedAsNotSucceededAndOthersServe) {
  exporter::Paths missing = FixturePaths();
  missing.procfs = FixtureDir() + "/empty";
  std::vector<exporter::NodeScraper::Named> collectors;
  collectors.emplace_back("conntrack", MakeCollector("conntrack", missing));
  collectors.emplace_back("netstat", MakeCollector("netstat", FixturePaths("broken")));
  collectors.emplace_back("vmstat", MakeCollector("vmstat", FixturePaths()));
  const auto f = exporter::NodeScraper(std::move(collectors)).Collect();
  // node_exporter reports success 0 for "no data" as well; only the log level differs.
  EXPECT_EQ(*Value(f, "node_scrape_collector_success", {{"collector", "conntrack"}}), 0);
  EXPECT_EQ(*Value(f, "node_scrape_collector_success", {{"collector", "netstat"}}), 0);
  EXPECT_EQ(*Value(f, "node_scrape_collector_success", {{"collector", "vmstat"}}), 1);
  EXPECT_EQ(FindFamily(f, "node_nf_conntrack_entries"), nullptr);
  EXPECT_EQ(FindFamily(f, "node_netstat_Tcp_InSegs"), nullptr);
  EXPECT_NE(FindFamily(f, "node_vmstat_pgfault"), nullptr);
}

}  // namespace
}  // namespace xw::testing
