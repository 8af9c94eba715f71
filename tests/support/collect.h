// Helpers for collector unit tests: build one collector from the catalog against a fixture
// tree and look up sample values.
#pragma once

#include <prometheus/metric_family.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "collector.h"

namespace xw::testing {

inline std::string FixtureDir() {
  return XMPPWATCH_FIXTURE_DIR;
}

exporter::Paths FixturePaths(const std::string& variant = "");

// Builds `name` from the catalog with its default flag values (overridden by `options`).
std::unique_ptr<exporter::Collector> MakeCollector(const std::string& name, const exporter::Paths& paths,
                                                   std::map<std::string, std::string> options = {});

std::vector<prometheus::MetricFamily> Collect(const std::string& name, const exporter::Paths& paths,
                                              std::map<std::string, std::string> options = {});

const prometheus::MetricFamily* FindFamily(const std::vector<prometheus::MetricFamily>& families,
                                           const std::string& name);

// The value of the sample with exactly these labels, or nullopt.
std::optional<double> Value(const std::vector<prometheus::MetricFamily>& families, const std::string& name,
                            const std::map<std::string, std::string>& labels = {});

}  // namespace xw::testing
