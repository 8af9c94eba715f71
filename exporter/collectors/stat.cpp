// Boot time, context switches, forks, interrupts and runnable/blocked procs from /proc/stat.
#include "collector.h"
#include "kept_file.h"
#include "metric_family.h"
#include "procfs/proc_stat.h"
#include "text_file.h"

namespace xw::exporter {
namespace {

class StatCollector : public Collector {
 public:
  explicit StatCollector(const CollectorContext& ctx) : file_(ctx.paths.Proc("stat"), KeptFile::Printed::kInOnePiece) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    const ProcStat st = ParseProcStat(file_.Read(), file_.path());
    auto need = [&](const std::optional<std::uint64_t>& v, const char* key) {
      if (!v) throw ParseError(file_.path() + ": no '" + key + "' line");
      return static_cast<double>(*v);
    };
    std::vector<prometheus::MetricFamily> out;
    Emit(out, Counter("node_intr_total", "Total number of interrupts serviced.").Add(need(st.interrupts, "intr")));
    Emit(out, Counter("node_context_switches_total", "Total number of context switches.")
                  .Add(need(st.context_switches, "ctxt")));
    Emit(out, Counter("node_forks_total", "Total number of forks.").Add(need(st.forks, "processes")));
    Emit(out, Gauge("node_boot_time_seconds", "Node boot time, in unixtime.").Add(need(st.boot_time, "btime")));
    Emit(out, Gauge("node_procs_running", "Number of processes in runnable state.")
                  .Add(need(st.procs_running, "procs_running")));
    Emit(out, Gauge("node_procs_blocked", "Number of processes blocked waiting for I/O to complete.")
                  .Add(need(st.procs_blocked, "procs_blocked")));
    return out;
  }

 private:
  mutable KeptFile file_;
};

const CollectorRegistrar kRegistrar({
    .name = "stat",
    .enabled_by_default = true,
    .help = "Boot time, context switches, forks, interrupts from /proc/stat",
    .flags = {BoolFlag("collector.stat.softirq", false,
                       "node_softirqs_total; not implemented: accepted, warned about and ignored")},
    .make = [](const CollectorContext& ctx) { return std::make_unique<StatCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
