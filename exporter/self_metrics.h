// The exporter's own process_* metrics (as every Prometheus client library exports them)
// and its build info.
#pragma once

#include <string>

#include "collector.h"
#include "kept_file.h"

namespace xw::exporter {

class SelfMetrics : public prometheus::Collectable {
 public:
  explicit SelfMetrics(std::string procfs);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::string procfs_;
  double boot_time_ = 0;
  // Our own /proc/self, not --path.procfs: that may be a fixture tree.
  mutable KeptFile self_stat_{"/proc/self/stat", KeptFile::Printed::kInOnePiece};
};

}  // namespace xw::exporter
