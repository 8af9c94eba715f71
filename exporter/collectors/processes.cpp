// node_processes_*: process and thread counts by state, via libproc2. Off by default, as in
// node_exporter (it reads every /proc/PID/stat).
#include <map>
#include <mutex>

#include "collector.h"
#include "metric_family.h"
#include "procfs/proc_table.h"
#include "text_file.h"

namespace xw::exporter {
namespace {

enum Item { kState, kThreads };

class ProcessesCollector : public Collector {
 public:
  explicit ProcessesCollector(const CollectorContext& ctx)
      : pid_max_path_(ctx.paths.Proc("sys/kernel/pid_max")),
        threads_max_path_(ctx.paths.Proc("sys/kernel/threads-max")),
        table_({PIDS_STATE, PIDS_NLWP}) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::map<std::string, int> proc_states, thread_states;
    std::size_t pids = 0;
    double threads = 0;
    {
      std::lock_guard lock(mu_);
      for (const pids_stack* s : table_.Reap(PIDS_FETCH_TASKS_ONLY)) {
        ++pids;
        threads += ProcTable::At(s, kThreads).result.s_int;
        ++proc_states[std::string(1, ProcTable::At(s, kState).result.s_ch)];
      }
      for (const pids_stack* s : table_.Reap(PIDS_FETCH_THREADS_TOO)) {
        ++thread_states[std::string(1, ProcTable::At(s, kState).result.s_ch)];
      }
    }
    auto read_limit = [](const std::string& path) {
      return static_cast<double>(Uint64OrThrow(Trim(ReadFile(path)), path));
    };
    std::vector<prometheus::MetricFamily> out;
    Emit(out, Gauge("node_processes_max_processes", "Number of max PIDs limit").Add(read_limit(pid_max_path_)));
    Emit(out, Gauge("node_processes_max_threads", "Limit of threads in the system").Add(read_limit(threads_max_path_)));
    Emit(out, Gauge("node_processes_pids", "Number of PIDs").Add(static_cast<double>(pids)));
    auto states = Gauge("node_processes_state", "Number of processes in each state.");
    for (const auto& [state, n] : proc_states) states.Add(n, {{"state", state}});
    Emit(out, std::move(states));
    Emit(out, Gauge("node_processes_threads", "Allocated threads in system").Add(threads));
    auto tstates = Gauge("node_processes_threads_state", "Number of threads in each state.");
    for (const auto& [state, n] : thread_states) tstates.Add(n, {{"thread_state", state}});
    Emit(out, std::move(tstates));
    return out;
  }

 private:
  std::string pid_max_path_;
  std::string threads_max_path_;
  mutable std::mutex mu_;
  mutable ProcTable table_;
};

const CollectorRegistrar kRegistrar({
    .name = "processes",
    .enabled_by_default = false,
    .help = "Process and thread counts by state (libproc2; reads the real /proc)",
    .flags = {},
    .make = [](const CollectorContext& ctx) { return std::make_unique<ProcessesCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
