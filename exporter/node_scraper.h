// Runs every enabled collector for one scrape and adds node_exporter's per-collector
// node_scrape_collector_duration_seconds and node_scrape_collector_success.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
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

  using Extra = std::pair<std::string, std::vector<prometheus::MetricFamily>>;

  std::vector<prometheus::MetricFamily> Collect() const override;
  // The same scrape in the text format, appended to `out`, then `extras` (families from
  // outside the collectors, each under a source name for the count below). With one thread
  // each collector's families are written out and freed before the next collector runs, so a
  // scrape never holds all of them at once (a thousand-odd small allocations alive together
  // overflow malloc's per-thread cache and send every free down its slow path).
  // Series with a label value that is not UTF-8 are left out (text_format.h) and counted in
  // xmppwatch_exporter_invalid_utf8_series_total{collector}.
  void AppendText(std::string& out, const std::vector<Extra>& extras = {}) const;

 private:
  struct Outcome {
    std::vector<prometheus::MetricFamily> families;
    double seconds = 0;
    bool ok = false;
  };
  struct Job;
  struct Pool;

  Outcome RunOne(const Named& collector) const;
  // Every collector, on the pool's threads too; outcomes in collector order.
  std::vector<Outcome> RunAll() const;
  // node_scrape_collector_duration_seconds, node_scrape_collector_success and
  // xmppwatch_exporter_invalid_utf8_series_total.
  void AddOutcomeFamilies(const std::vector<Outcome>& outcomes, std::vector<prometheus::MetricFamily>& out) const;
  // Writes `families` and counts what the writer dropped under `source`.
  void Write(std::string& out, const std::string& source, const std::vector<prometheus::MetricFamily>& families) const;
  // Takes collectors off the job until none is left; returns once this thread has no more.
  void Drain(Job& job) const;

  std::vector<Named> collectors_;
  std::unique_ptr<Pool> pool_;
  // Series dropped for invalid UTF-8 since start, by source (a collector or an extra).
  mutable std::mutex invalid_mu_;
  mutable std::map<std::string, std::uint64_t> invalid_utf8_;
};

}  // namespace xw::exporter
