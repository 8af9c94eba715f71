// The exporter's own process_* metrics (as every Prometheus client library exports them)
// and its build info.
#pragma once

#include <string>

#include "collector.h"

namespace xw::exporter {

class SelfMetrics : public prometheus::Collectable {
 public:
  explicit SelfMetrics(std::string procfs);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::string procfs_;
  double boot_time_ = 0;
};

}  // namespace xw::exporter
