// Collectors with nothing to read report no data, not half a scrape. The hand-made broken
// files of issue 8's collectors are cases of BrokenInput, in broken_input_test.cpp.
#include <gtest/gtest.h>

#include "collect.h"
#include "node_scraper.h"

namespace xw::testing {
namespace {

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
