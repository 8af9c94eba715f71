// node_cpu_seconds_total and node_cpu_guest_seconds_total from /proc/stat.
#include <unistd.h>

#include "collector.h"
#include "kept_file.h"
#include "metric_family.h"
#include "procfs/proc_stat.h"
#include "text_file.h"

namespace xw::exporter {
namespace {

class CpuCollector : public Collector {
 public:
  explicit CpuCollector(const CollectorContext& ctx)
      : file_(ctx.paths.Proc("stat"), KeptFile::Printed::kInOnePiece),
        user_hz_(static_cast<double>(sysconf(_SC_CLK_TCK))),
        guest_(ctx.BoolOption("collector.cpu.guest")) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    const ProcStat st = ParseProcStat(file_.Read(), file_.path());
    if (st.cpus.empty()) throw ParseError(file_.path() + ": no per-cpu lines");
    auto seconds = Counter("node_cpu_seconds_total", "Seconds the CPUs spent in each mode.");
    auto guest = Counter("node_cpu_guest_seconds_total", "Seconds the CPUs spent in guests (VMs) for each mode.");
    for (const auto& c : st.cpus) {
      const std::string cpu = std::to_string(c.cpu);
      const std::pair<const char*, std::uint64_t> modes[] = {
          {"idle", c.idle},       {"iowait", c.iowait}, {"irq", c.irq},       {"nice", c.nice},
          {"softirq", c.softirq}, {"steal", c.steal},   {"system", c.system}, {"user", c.user}};
      for (const auto& [mode, ticks] : modes) {
        seconds.Add(static_cast<double>(ticks) / user_hz_, {{"cpu", cpu}, {"mode", mode}});
      }
      if (!guest_) continue;
      guest.Add(static_cast<double>(c.guest_nice) / user_hz_, {{"cpu", cpu}, {"mode", "nice"}});
      guest.Add(static_cast<double>(c.guest) / user_hz_, {{"cpu", cpu}, {"mode", "user"}});
    }
    std::vector<prometheus::MetricFamily> out;
    Emit(out, std::move(seconds));
    Emit(out, std::move(guest));
    return out;
  }

 private:
  mutable KeptFile file_;
  double user_hz_;
  bool guest_;
};

const CollectorRegistrar kRegistrar({
    .name = "cpu",
    .enabled_by_default = true,
    .help = "CPU time per mode from /proc/stat",
    .flags = {BoolFlag("collector.cpu.guest", true, "Enables metric node_cpu_guest_seconds_total"),
              BoolFlag("collector.cpu.info", false,
                       "node_cpu_info; not implemented: accepted, warned about and ignored"),
              RegexFlag("collector.cpu.info.flags-include", "", "Filter for node_cpu_flag_info; no-op (no cpu.info)"),
              RegexFlag("collector.cpu.info.bugs-include", "", "Filter for node_cpu_bug_info; no-op (no cpu.info)")},
    .make = [](const CollectorContext& ctx) { return std::make_unique<CpuCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
