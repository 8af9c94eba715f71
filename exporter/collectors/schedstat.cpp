// node_schedstat_* per CPU from /proc/schedstat (kernels built with CONFIG_SCHEDSTATS).
// Without the file there is no data, as node_exporter reports it.
#include "collector.h"
#include "kept_file.h"
#include "metric_family.h"
#include "text_file.h"

namespace xw::exporter {
namespace {

class SchedstatCollector : public Collector {
 public:
  explicit SchedstatCollector(const CollectorContext& ctx) : file_(ctx.paths.Proc("schedstat")) {}

  std::string NoSource() const override { return Missing(file_.path()); }

  std::vector<prometheus::MetricFamily> Collect() const override {
    const auto text = file_.ReadIfExists();
    if (!text) throw NoDataError(DoesNotExist(file_.path()));
    auto running = Counter("node_schedstat_running_seconds_total", "Number of seconds CPU spent running a process.");
    auto waiting =
        Counter("node_schedstat_waiting_seconds_total", "Number of seconds spent by processing waiting for this CPU.");
    auto slices = Counter("node_schedstat_timeslices_total", "Number of timeslices executed by CPU.");
    std::size_t line_no = 0;
    for (auto line : Lines(*text)) {
      ++line_no;
      const auto f = Fields(line);
      // "cpuN f1 .. f9": the last three are running ns, waiting ns and timeslices.
      if (f.empty() || !f[0].starts_with("cpu") || f[0].size() == 3) continue;
      const FileLine where(file_.path(), line_no);
      if (f.size() != 10) throw ParseError(where + ": expected 9 numbers after " + std::string(f[0]));
      const Labels labels{{"cpu", std::string(f[0].substr(3))}};
      running.Add(static_cast<double>(Uint64OrThrow(f[7], where)) / 1e9, labels);
      waiting.Add(static_cast<double>(Uint64OrThrow(f[8], where)) / 1e9, labels);
      slices.Add(static_cast<double>(Uint64OrThrow(f[9], where)), labels);
    }
    std::vector<prometheus::MetricFamily> out;
    Emit(out, std::move(running));
    Emit(out, std::move(slices));
    Emit(out, std::move(waiting));
    return out;
  }

 private:
  mutable KeptFile file_;
};

const CollectorRegistrar kRegistrar({
    .name = "schedstat",
    .enabled_by_default = true,
    .help = "Scheduler statistics from /proc/schedstat",
    .flags = {},
    .make = [](const CollectorContext& ctx) { return std::make_unique<SchedstatCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
