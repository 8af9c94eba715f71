// `promtool check metrics` on a live scrape of every default collector (plus processes).
//
// promtool's linter flags camelCase names, and node_exporter's own node_memory_*,
// node_netstat_* and node_sockstat_* names (MemTotal_bytes, Tcp_InSegs, TCP_inuse) are
// camelCase, and node_entropy_*_bits counts bits. Those names are required for dashboards built
// on node_exporter, so these are the lints we accept, on those names, and only where promtool
// flags node_exporter's output with the very same line.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>

#include "exporter_fixture.h"

namespace xw::testing {
namespace {

std::vector<std::string> LintLines(const std::string& exposition) {
  const auto r = RunCommand({"promtool", "check", "metrics"}, std::chrono::seconds(60), exposition);
  std::vector<std::string> lines;
  std::istringstream in(r.output);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

TEST(Promtool, CheckMetricsHasOnlyNodeExporterInheritedLints) {
  auto ours = StartOurs({"--collector.processes"});
  auto ne = StartNodeExporter(CollectorFlags());
  const std::vector<std::string> our_lints = LintLines(ours->Scrape());
  const std::vector<std::string> ne_lints = LintLines(ne->Scrape());
  const std::set<std::string> inherited(ne_lints.begin(), ne_lints.end());
  // node_netstat_* (Tcp_InSegs) and node_sockstat_* (TCP_inuse) keep the kernel's spelling too,
  // and node_entropy_*_bits is in bits, which promtool would have in bytes.
  const std::regex camel(
      R"(^node_(memory|netstat|sockstat)_\w+ metric names should be written in 'snake_case' not 'camelCase'$)");
  const std::regex bits(R"(^node_entropy_\w+_bits use base unit "bytes" instead of "bits"$)");
  int accepted = 0;
  for (const auto& line : our_lints) {
    if ((std::regex_match(line, camel) || std::regex_match(line, bits)) && inherited.contains(line)) {
      ++accepted;
      continue;
    }
    ADD_FAILURE() << "promtool: " << line;
  }
  std::printf("promtool: %zu lint lines, %d of them node_exporter's own names\n", our_lints.size(), accepted);
}

}  // namespace
}  // namespace xw::testing
