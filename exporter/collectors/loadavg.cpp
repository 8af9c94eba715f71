// node_load1/5/15 from /proc/loadavg.
#include "collector.h"
#include "kept_file.h"
#include "metric_family.h"
#include "text_file.h"

namespace xw::exporter {
namespace {

class LoadavgCollector : public Collector {
 public:
  explicit LoadavgCollector(const CollectorContext& ctx)
      : file_(ctx.paths.Proc("loadavg"), KeptFile::Printed::kInOnePiece) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    const std::string text = file_.Read();
    const auto f = Fields(Trim(text));
    if (f.size() < 3) throw ParseError(file_.path() + ": expected at least 3 fields, got " + std::to_string(f.size()));
    std::vector<prometheus::MetricFamily> out;
    Emit(out, Gauge("node_load1", "1m load average.").Add(DoubleOrThrow(f[0], file_.path())));
    Emit(out, Gauge("node_load5", "5m load average.").Add(DoubleOrThrow(f[1], file_.path())));
    Emit(out, Gauge("node_load15", "15m load average.").Add(DoubleOrThrow(f[2], file_.path())));
    return out;
  }

 private:
  mutable KeptFile file_;
};

const CollectorRegistrar kRegistrar({
    .name = "loadavg",
    .enabled_by_default = true,
    .help = "Load averages from /proc/loadavg",
    .flags = {},
    .make = [](const CollectorContext& ctx) { return std::make_unique<LoadavgCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
