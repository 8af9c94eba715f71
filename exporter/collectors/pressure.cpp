// Pressure stall information (PSI) from /proc/pressure/{cpu,io,memory}.
#include "collector.h"
#include "kept_file.h"
#include "metric_family.h"
#include "text_file.h"

namespace xw::exporter {
namespace {

struct Psi {
  std::optional<double> some_total, full_total;  // seconds
};

Psi ParsePsi(KeptFile& file) {
  const std::string& path = file.path();
  const std::string text = file.Read();
  Psi psi;
  for (std::string_view line : Lines(text)) {
    const auto f = Fields(line);
    if (f.empty()) continue;
    std::optional<double> total;
    for (std::size_t i = 1; i < f.size(); ++i) {
      if (f[i].starts_with("total=")) total = static_cast<double>(Uint64OrThrow(f[i].substr(6), path)) / 1e6;
    }
    if (!total) throw ParseError(path + ": line '" + std::string(line) + "' has no total=");
    if (f[0] == "some")
      psi.some_total = total;
    else if (f[0] == "full")
      psi.full_total = total;
  }
  if (!psi.some_total) throw ParseError(path + ": no 'some' line");
  return psi;
}

class PressureCollector : public Collector {
 public:
  explicit PressureCollector(const CollectorContext& ctx)
      : dir_(ctx.paths.Proc("pressure")),
        cpu_(dir_ + "/cpu", KeptFile::Printed::kInOnePiece),
        io_(dir_ + "/io", KeptFile::Printed::kInOnePiece),
        memory_(dir_ + "/memory", KeptFile::Printed::kInOnePiece) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    const Psi cpu = ParsePsi(cpu_);
    const Psi io = ParsePsi(io_);
    const Psi mem = ParsePsi(memory_);
    auto full = [](const Psi& p, const std::string& path) {
      if (!p.full_total) throw ParseError(path + ": no 'full' line");
      return *p.full_total;
    };
    std::vector<prometheus::MetricFamily> out;
    Emit(out, Counter("node_pressure_cpu_waiting_seconds_total",
                      "Total time in seconds that processes have waited for CPU time")
                  .Add(*cpu.some_total));
    Emit(out, Counter("node_pressure_io_waiting_seconds_total",
                      "Total time in seconds that processes have waited due to IO congestion")
                  .Add(*io.some_total));
    Emit(out, Counter("node_pressure_io_stalled_seconds_total",
                      "Total time in seconds no process could make progress due to IO congestion")
                  .Add(full(io, dir_ + "/io")));
    Emit(out, Counter("node_pressure_memory_waiting_seconds_total",
                      "Total time in seconds that processes have waited for memory")
                  .Add(*mem.some_total));
    Emit(out, Counter("node_pressure_memory_stalled_seconds_total",
                      "Total time in seconds no process could make progress due to memory congestion")
                  .Add(full(mem, dir_ + "/memory")));
    return out;
  }

 private:
  std::string dir_;
  mutable KeptFile cpu_, io_, memory_;
};

const CollectorRegistrar kRegistrar({
    .name = "pressure",
    .enabled_by_default = true,
    .help = "Pressure stall information from /proc/pressure",
    .flags = {},
    .make = [](const CollectorContext& ctx) { return std::make_unique<PressureCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
