// node_entropy_{available,pool_size}_bits from /proc/sys/kernel/random.
#include "collector.h"
#include "metric_family.h"
#include "procfs/sys_value.h"

namespace xw::exporter {
namespace {

class EntropyCollector : public Collector {
 public:
  explicit EntropyCollector(const CollectorContext& ctx)
      : avail_(ctx.paths.Proc("sys/kernel/random/entropy_avail"), KeptFile::Printed::kInOnePiece),
        pool_(ctx.paths.Proc("sys/kernel/random/poolsize"), KeptFile::Printed::kInOnePiece) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    const double avail = ReadNumber(avail_);
    const double pool = ReadNumber(pool_);
    std::vector<prometheus::MetricFamily> out;
    Emit(out, Gauge("node_entropy_available_bits", "Bits of available entropy.").Add(avail));
    Emit(out, Gauge("node_entropy_pool_size_bits", "Bits of entropy pool.").Add(pool));
    return out;
  }

 private:
  mutable KeptFile avail_, pool_;
};

const CollectorRegistrar kRegistrar({
    .name = "entropy",
    .enabled_by_default = true,
    .help = "Available entropy from /proc/sys/kernel/random",
    .flags = {},
    .make = [](const CollectorContext& ctx) { return std::make_unique<EntropyCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
