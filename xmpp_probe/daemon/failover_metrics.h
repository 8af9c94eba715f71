// /metrics families of the continuous failover module: outage histogram and last-value
// gauges, message counters. Rendered from the runner's snapshot at scrape time, except the
// histogram, which must see every outage and so is fed as outages end.
#pragma once

#include <prometheus/metric_family.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "probe/failover.h"

namespace xp {

class FailoverMetrics {
 public:
  FailoverMetrics();
  void Observe(const Outage& o);  // thread-safe
  std::vector<prometheus::MetricFamily> Collect(const FailoverStats& stats) const;

 private:
  struct Hist {
    std::vector<std::uint64_t> counts;  // per bucket, not cumulative
    std::uint64_t count = 0;
    double sum = 0;
    double last_outage = 0, last_detection = 0;
  };
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::map<std::string, Hist> by_session_;
};

}  // namespace xp
