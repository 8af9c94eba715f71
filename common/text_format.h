// Renders metric families in the Prometheus text format (0.0.4).
//
// prometheus-cpp's TextSerializer formats every number through an iostream, which made it
// half of the exporter's CPU per scrape. This writer produces the same exposition (tests
// parse both and compare) with std::to_chars, whose shortest round-trip form is also how
// Go's node_exporter prints numbers.
#pragma once

#include <prometheus/metric_family.h>

#include <string>
#include <vector>

namespace xw {

void AppendTextFormat(std::string& out, const std::vector<prometheus::MetricFamily>& families);
std::string TextFormat(const std::vector<prometheus::MetricFamily>& families);

}  // namespace xw
