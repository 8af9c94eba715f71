// /metrics families of the continuous e2e module (probe/e2e.h), rendered from its snapshot at
// scrape time: the delivery-latency histogram the latency SLO reads, the message counters the
// e2e availability SLI reads, and whether each session is logged in.
#pragma once

#include <prometheus/metric_family.h>

#include <vector>

#include "probe/e2e.h"

namespace xp {

std::vector<prometheus::MetricFamily> E2eFamilies(const E2eSnapshot& s);

}  // namespace xp
