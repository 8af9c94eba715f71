#include "node_scraper.h"

#include <chrono>
#include <exception>

#include "log.h"
#include "metric_family.h"

namespace xw::exporter {

NodeScraper::NodeScraper(std::vector<Named> collectors) : collectors_(std::move(collectors)) {}

std::vector<prometheus::MetricFamily> NodeScraper::Collect() const {
  std::vector<prometheus::MetricFamily> out;
  auto duration = Gauge("node_scrape_collector_duration_seconds", "node_exporter: Duration of a collector scrape.");
  auto success = Gauge("node_scrape_collector_success", "node_exporter: Whether a collector succeeded.");
  for (const auto& [name, collector] : collectors_) {
    const auto start = std::chrono::steady_clock::now();
    bool ok = true;
    try {
      auto families = collector->Collect();
      for (auto& f : families) out.push_back(std::move(f));
    } catch (const NoDataError& e) {
      ok = false;
      log::Debug("collector returned no data", {{"collector", name}, {"err", e.what()}});
    } catch (const std::exception& e) {
      ok = false;
      log::Error("collector failed", {{"collector", name}, {"err", e.what()}});
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    duration.Add(took.count(), {{"collector", name}});
    success.Add(ok ? 1 : 0, {{"collector", name}});
  }
  Emit(out, std::move(duration));
  Emit(out, std::move(success));
  return out;
}

}  // namespace xw::exporter
