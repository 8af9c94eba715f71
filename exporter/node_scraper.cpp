#include "node_scraper.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>

#include "log.h"
#include "metric_family.h"
#include "text_format.h"

namespace xw::exporter {

// One scrape's work: collectors are handed out by index, results kept in collector order.
struct NodeScraper::Job {
  explicit Job(std::size_t n) : outcomes(n) {}
  std::vector<Outcome> outcomes;
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> finished{0};
};

struct NodeScraper::Pool {
  std::mutex mu;
  std::condition_variable work_cv;  // a new job, or stop
  std::condition_variable done_cv;  // the job's last collector finished
  std::shared_ptr<Job> job;
  std::uint64_t generation = 0;
  bool stop = false;
  std::vector<std::thread> threads;
};

NodeScraper::NodeScraper(std::vector<Named> collectors, unsigned threads) : collectors_(std::move(collectors)) {
  // Every collector has its series from the start, so increase() sees the first drop.
  for (const auto& c : collectors_) invalid_utf8_[c.first] = 0;
  if (threads <= 1 || collectors_.size() <= 1) return;
  pool_ = std::make_unique<Pool>();
  for (unsigned i = 1; i < threads; ++i) {
    pool_->threads.emplace_back([this] {
      std::uint64_t seen = 0;
      for (;;) {
        std::shared_ptr<Job> job;
        {
          std::unique_lock lock(pool_->mu);
          pool_->work_cv.wait(lock, [&] { return pool_->stop || pool_->generation != seen; });
          if (pool_->stop) return;
          seen = pool_->generation;
          job = pool_->job;
        }
        if (job) Drain(*job);
      }
    });
  }
}

NodeScraper::~NodeScraper() {
  if (!pool_) return;
  {
    std::lock_guard lock(pool_->mu);
    pool_->stop = true;
  }
  pool_->work_cv.notify_all();
  for (auto& t : pool_->threads) t.join();
}

NodeScraper::Outcome NodeScraper::RunOne(const Named& named) const {
  const auto& [name, collector] = named;
  Outcome o;
  const auto start = std::chrono::steady_clock::now();
  try {
    if (const std::string why = collector->NoSource(); !why.empty()) {
      log::Debug("collector returned no data", {{"collector", name}, {"err", why}});
    } else {
      o.families = collector->Collect();
      o.ok = true;
    }
  } catch (const NoDataError& e) {
    log::Debug("collector returned no data", {{"collector", name}, {"err", e.what()}});
  } catch (const std::exception& e) {
    log::Error("collector failed", {{"collector", name}, {"err", e.what()}});
  }
  o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return o;
}

void NodeScraper::Drain(Job& job) const {
  const std::size_t n = collectors_.size();
  for (std::size_t i = job.next.fetch_add(1); i < n; i = job.next.fetch_add(1)) {
    job.outcomes[i] = RunOne(collectors_[i]);
    if (job.finished.fetch_add(1) + 1 == n && pool_) {
      // Under the mutex, so the scraping thread cannot check and then miss the wake-up.
      std::lock_guard lock(pool_->mu);
      pool_->done_cv.notify_all();
    }
  }
}

std::vector<NodeScraper::Outcome> NodeScraper::RunAll() const {
  auto job = std::make_shared<Job>(collectors_.size());
  if (pool_) {
    {
      std::lock_guard lock(pool_->mu);
      pool_->job = job;
      ++pool_->generation;
    }
    pool_->work_cv.notify_all();
  }
  // This thread works too; it alone would finish the job if no helper came.
  Drain(*job);
  if (pool_) {
    std::unique_lock lock(pool_->mu);
    pool_->done_cv.wait(lock, [&] { return job->finished.load() == collectors_.size(); });
    if (pool_->job == job) pool_->job.reset();
  }
  return std::move(job->outcomes);
}

std::vector<prometheus::MetricFamily> NodeScraper::Collect() const {
  std::vector<Outcome> outcomes = RunAll();
  std::vector<prometheus::MetricFamily> out;
  std::size_t total = 2;
  for (const Outcome& o : outcomes) total += o.families.size();
  out.reserve(total);  // one allocation: growing it step by step moved every family several times
  for (Outcome& o : outcomes) {
    for (auto& f : o.families) out.push_back(std::move(f));
  }
  AddOutcomeFamilies(outcomes, out);
  return out;
}

void NodeScraper::Write(std::string& out, const std::string& source,
                        const std::vector<prometheus::MetricFamily>& families) const {
  TextFormatStats stats;
  AppendTextFormat(out, families, &stats);
  if (stats.invalid_utf8_series == 0) return;
  log::Warn(
      "series dropped: a label value is not valid UTF-8",
      {{"collector", source}, {"series", std::to_string(stats.invalid_utf8_series)}, {"first", stats.first_invalid}});
  std::lock_guard lock(invalid_mu_);
  invalid_utf8_[source] += stats.invalid_utf8_series;
}

void NodeScraper::AppendText(std::string& out, const std::vector<Extra>& extras) const {
  std::vector<Outcome> outcomes;
  if (pool_) {
    outcomes = RunAll();
    for (std::size_t i = 0; i < collectors_.size(); ++i) {
      Write(out, collectors_[i].first, outcomes[i].families);
      outcomes[i].families.clear();
    }
  } else {
    outcomes.resize(collectors_.size());
    for (std::size_t i = 0; i < collectors_.size(); ++i) {
      outcomes[i] = RunOne(collectors_[i]);
      Write(out, collectors_[i].first, outcomes[i].families);
      outcomes[i].families.clear();
    }
  }
  for (const auto& [source, families] : extras) Write(out, source, families);
  std::vector<prometheus::MetricFamily> tail;
  AddOutcomeFamilies(outcomes, tail);
  AppendTextFormat(out, tail);
}

void NodeScraper::AddOutcomeFamilies(const std::vector<Outcome>& outcomes,
                                     std::vector<prometheus::MetricFamily>& out) const {
  auto duration = Gauge("node_scrape_collector_duration_seconds", "node_exporter: Duration of a collector scrape.");
  auto success = Gauge("node_scrape_collector_success", "node_exporter: Whether a collector succeeded.");
  for (std::size_t i = 0; i < collectors_.size(); ++i) {
    duration.Add(outcomes[i].seconds, {{"collector", collectors_[i].first}});
    success.Add(outcomes[i].ok ? 1 : 0, {{"collector", collectors_[i].first}});
  }
  Emit(out, std::move(duration));
  Emit(out, std::move(success));
  // Counted by AppendText, which writes this scrape's series before it gets here.
  auto invalid = Counter("xmppwatch_exporter_invalid_utf8_series_total",
                         "Series left out of scrapes because a label value was not valid UTF-8, by source.");
  {
    std::lock_guard lock(invalid_mu_);
    for (const auto& [source, n] : invalid_utf8_) invalid.Add(static_cast<double>(n), {{"collector", source}});
  }
  Emit(out, std::move(invalid));
}

}  // namespace xw::exporter
