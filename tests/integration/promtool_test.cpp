// `promtool check metrics` on a live scrape of every default collector (plus processes).
//
// promtool's linter flags camelCase names, and node_exporter's own node_memory_* names
// (MemTotal_bytes ...) are camelCase. Those names are required for dashboards built on
// node_exporter, so the one lint we accept is that one, on node_memory_* names, and only
// where promtool flags node_exporter's output for the very same name.
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
  const std::regex camel(R"(^node_memory_\w+ metric names should be written in 'snake_case' not 'camelCase'$)");
  int accepted = 0;
  for (const auto& line : our_lints) {
    if (std::regex_match(line, camel) && inherited.contains(line)) {
      ++accepted;
      continue;
    }
    ADD_FAILURE() << "promtool: " << line;
  }
  std::printf("promtool: %zu lint lines, %d of them node_exporter's own camelCase node_memory_* names\n",
              our_lints.size(), accepted);
}

}  // namespace
}  // namespace xw::testing
