// Micro-benchmarks of the exporter's hot paths: parsing /proc/stat, collecting the default
// node collectors, and rendering the exposition text.
#include <benchmark/benchmark.h>
#include <prometheus/text_serializer.h>

#include <cstdio>
#include <memory>
#include <sstream>

#include "collector.h"
#include "log.h"
#include "node_scraper.h"
#include "procfs/proc_stat.h"
#include "text_file.h"

namespace {

using xw::exporter::CollectorCatalog;
using xw::exporter::CollectorContext;
using xw::exporter::NodeScraper;

NodeScraper DefaultScraper() {
  CollectorContext ctx;
  std::vector<NodeScraper::Named> collectors;
  for (const auto& spec : CollectorCatalog::Instance().specs()) {
    for (const auto& f : spec.flags) ctx.options[f.name] = f.default_value;
  }
  for (const auto& spec : CollectorCatalog::Instance().specs()) {
    if (spec.enabled_by_default && spec.name != "service") collectors.emplace_back(spec.name, spec.make(ctx));
  }
  return NodeScraper(std::move(collectors));
}

void BM_ParseProcStat(benchmark::State& state) {
  const std::string text = xw::ReadFile("/proc/stat");
  for (auto _ : state) benchmark::DoNotOptimize(xw::exporter::ParseProcStat(text, "/proc/stat"));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ParseProcStat);

void BM_ReadAndParseProcStat(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(xw::exporter::ParseProcStat(xw::ReadFile("/proc/stat"), "/proc/stat"));
}
BENCHMARK(BM_ReadAndParseProcStat);

void BM_CollectDefaultCollectors(benchmark::State& state) {
  const NodeScraper scraper = DefaultScraper();
  for (auto _ : state) benchmark::DoNotOptimize(scraper.Collect());
}
BENCHMARK(BM_CollectDefaultCollectors);

void BM_RenderExposition(benchmark::State& state) {
  const auto families = DefaultScraper().Collect();
  std::size_t series = 0;
  for (const auto& f : families) series += f.metric.size();
  for (auto _ : state) {
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, families);
    benchmark::DoNotOptimize(out.str());
  }
  state.counters["series"] = static_cast<double>(series);
}
BENCHMARK(BM_RenderExposition);

}  // namespace

// One benchmark per collector, registered from the catalog in main(): the catalog is filled by
// other translation units' static objects, which may run after ours.
int main(int argc, char** argv) {
  // A collector whose server is absent warns at every call; the figures are what matter here.
  xw::log::SetLevel(xw::log::Level::kError);
  for (const auto& spec : CollectorCatalog::Instance().specs()) {
    CollectorContext ctx;
    for (const auto& f : spec.flags) ctx.options[f.name] = f.default_value;
    // Collectors that need a server or a file (ejabberd, mysql, ...) cannot be built from
    // defaults: they are measured against the stack, not here.
    std::shared_ptr<xw::exporter::Collector> collector;
    try {
      collector = spec.make(ctx);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "skipping collector %s: %s\n", spec.name.c_str(), e.what());
      continue;
    }
    benchmark::RegisterBenchmark(("BM_Collector/" + spec.name).c_str(), [collector](benchmark::State& state) {
      // A collector with no source on this host (no hwmon, no mdstat) says so every scrape:
      // what that costs is timed too, labelled as such.
      if (!collector->NoSource().empty()) {
        state.SetLabel("no data");
        for (auto _ : state) benchmark::DoNotOptimize(collector->NoSource());
        return;
      }
      try {
        collector->Collect();
      } catch (const std::exception& e) {
        state.SkipWithError(e.what());
        return;
      }
      for (auto _ : state) benchmark::DoNotOptimize(collector->Collect());
    });
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
