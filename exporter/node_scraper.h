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
  // With threads > 1, that many collectors run at once (the scraping thread and threads - 1
  // helpers kept for the process's life), as node_exporter runs its collectors concurrently:
  // a scrape then takes about as long as its slowest collectors, not their sum.
  explicit NodeScraper(std::vector<Named> collectors, unsigned threads = 1);
  ~NodeScraper() override;
  NodeScraper(const NodeScraper&) = delete;
  NodeScraper& operator=(const NodeScraper&) = delete;

  std::vector<prometheus::MetricFamily> Collect() const override;
  // The same scrape in the text format, appended to `out`. With one thread each collector's
  // families are written out and freed before the next collector runs, so a scrape never holds
  // all of them at once (a thousand-odd small allocations alive together overflow malloc's
  // per-thread cache and send every free down its slow path).
  void AppendText(std::string& out) const;

 private:
  struct Outcome {
    std::vector<prometheus::MetricFamily> families;
    double seconds = 0;
    bool ok = false;
  };
  struct Job;
  struct Pool;

  Outcome RunOne(const Named& collector) const;
  // node_scrape_collector_duration_seconds and node_scrape_collector_success.
  void AddOutcomeFamilies(const std::vector<Outcome>& outcomes, std::vector<prometheus::MetricFamily>& out) const;
  // Takes collectors off the job until none is left; returns once this thread has no more.
  void Drain(Job& job) const;

  std::vector<Named> collectors_;
  std::unique_ptr<Pool> pool_;
};

}  // namespace xw::exporter
