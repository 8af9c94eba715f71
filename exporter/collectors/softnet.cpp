// node_softnet_* per CPU from /proc/net/softnet_stat (one hex line per CPU).
#include "collector.h"
#include "kept_file.h"
#include "metric_family.h"
#include "procfs/sys_value.h"
#include "text_file.h"

namespace xw::exporter {
namespace {

// Kernels since 2.6 print at least nine columns; fewer means a truncated read.
constexpr std::size_t kMinColumns = 9;

class SoftnetCollector : public Collector {
 public:
  explicit SoftnetCollector(const CollectorContext& ctx) : file_(ctx.paths.Proc("net/softnet_stat")) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    const std::string text = file_.Read();
    auto processed = Counter("node_softnet_processed_total", "Number of processed packets");
    auto dropped = Counter("node_softnet_dropped_total", "Number of dropped packets");
    auto squeezed = Counter("node_softnet_times_squeezed_total", "Number of times processing packets ran out of quota");
    std::size_t cpu = 0;
    for (auto line : Lines(text)) {
      const auto f = Fields(line);
      if (f.empty()) continue;
      const FileLine where(file_.path(), cpu + 1);
      if (f.size() < kMinColumns) {
        throw ParseError(where + ": " + std::to_string(f.size()) + " columns, at least 9 expected");
      }
      double v[3];
      for (int i = 0; i < 3; ++i) {
        const auto n = ParseHex(f[i]);
        if (!n) throw ParseError(where + ": '" + std::string(f[i]) + "' is not hex");
        v[i] = static_cast<double>(*n);
      }
      // node_exporter 1.5 labels by line number, not by the kernel's cpu index column.
      const Labels labels{{"cpu", std::to_string(cpu++)}};
      processed.Add(v[0], labels);
      dropped.Add(v[1], labels);
      squeezed.Add(v[2], labels);
    }
    std::vector<prometheus::MetricFamily> out;
    Emit(out, std::move(dropped));
    Emit(out, std::move(processed));
    Emit(out, std::move(squeezed));
    return out;
  }

 private:
  mutable KeptFile file_;
};

const CollectorRegistrar kRegistrar({
    .name = "softnet",
    .enabled_by_default = true,
    .help = "Per-CPU packet processing statistics from /proc/net/softnet_stat",
    .flags = {},
    .make = [](const CollectorContext& ctx) { return std::make_unique<SoftnetCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
