// Runs every enabled collector for one scrape and adds node_exporter's per-collector
// node_scrape_collector_duration_seconds and node_scrape_collector_success.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "collector.h"

namespace xw::exporter {

class NodeScraper : public prometheus::Collectable {
 public:
  using Named = std::pair<std::string, std::unique_ptr<Collector>>;
  explicit NodeScraper(std::vector<Named> collectors);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::vector<Named> collectors_;
};

}  // namespace xw::exporter
