// xmppwatch_service_*: CPU, memory, threads, fds and liveness of the named services this host
// runs (ejabberd's beam.smp, mariadbd, haproxy), via libproc2.
//
// --collector.service.names is a comma list of [label=]comm[:cmdline-substring]. The substring
// tells apart two instances of one program on one host, e.g. the two ejabberd nodes of the
// loopback stack: "ejabberd=beam.smp:ej1@127.0.0.2".
#include <unistd.h>

#include <filesystem>
#include <mutex>

#include "collector.h"
#include "metric_family.h"
#include "procfs/proc_stat.h"
#include "procfs/proc_table.h"
#include "text_file.h"
#include "web_config.h"

namespace xw::exporter {
namespace {

struct ServiceSpec {
  std::string label, comm, cmdline_substring;
};

std::vector<ServiceSpec> ParseSpecs(const std::string& text) {
  std::vector<ServiceSpec> specs;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string item(Trim(std::string_view(text).substr(start, comma - start)));
    start = comma + 1;
    if (item.empty()) continue;
    ServiceSpec s;
    if (const auto eq = item.find('='); eq != std::string::npos) {
      s.label = item.substr(0, eq);
      item = item.substr(eq + 1);
    }
    if (const auto colon = item.find(':'); colon != std::string::npos) {
      s.cmdline_substring = item.substr(colon + 1);
      item = item.substr(0, colon);
    }
    s.comm = item;
    if (s.label.empty()) s.label = s.comm;
    if (s.comm.empty() || s.comm.size() > 15) {
      throw ConfigError("--collector.service.names: '" + s.comm +
                        "' is not a process name (1-15 characters, as in /proc/PID/comm)");
    }
    specs.push_back(std::move(s));
  }
  return specs;
}

enum Item { kPid, kComm, kUtime, kStime, kRss, kThreads, kStarted, kCmdline };

std::vector<pids_item> ItemsFor(const std::vector<ServiceSpec>& specs) {
  std::vector<pids_item> items{PIDS_ID_PID, PIDS_CMD,  PIDS_TICS_USER, PIDS_TICS_SYSTEM,
                               PIDS_RSS,    PIDS_NLWP, PIDS_TICS_BEGAN};
  for (const auto& s : specs) {
    if (!s.cmdline_substring.empty()) {
      items.push_back(PIDS_CMDLINE);
      break;
    }
  }
  return items;
}

struct Totals {
  int processes = 0;
  double user = 0, system = 0, rss = 0, threads = 0, fds = 0, started = 0;
};

class ServiceCollector : public Collector {
 public:
  explicit ServiceCollector(const CollectorContext& ctx)
      : proc_(ctx.paths.procfs),
        specs_(ParseSpecs(ctx.Option("collector.service.names"))),
        hz_(static_cast<double>(sysconf(_SC_CLK_TCK))),
        page_(static_cast<double>(sysconf(_SC_PAGESIZE))),
        table_(ItemsFor(specs_)),
        with_cmdline_(ItemsFor(specs_).size() > kCmdline) {
    const std::string stat_path = ctx.paths.Proc("stat");
    boot_time_ = static_cast<double>(ParseProcStat(ReadFile(stat_path), stat_path).boot_time.value_or(0));
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<Totals> totals(specs_.size());
    {
      std::lock_guard lock(mu_);
      for (const pids_stack* s : table_.Reap(PIDS_FETCH_TASKS_ONLY)) {
        const char* comm = ProcTable::At(s, kComm).result.str;
        for (std::size_t i = 0; i < specs_.size(); ++i) {
          if (comm == nullptr || specs_[i].comm != comm) continue;
          if (with_cmdline_ && !specs_[i].cmdline_substring.empty()) {
            const char* cmdline = ProcTable::At(s, kCmdline).result.str;
            if (cmdline == nullptr ||
                std::string_view(cmdline).find(specs_[i].cmdline_substring) == std::string_view::npos) {
              continue;
            }
          }
          Add(totals[i], s);
        }
      }
    }
    auto up = Gauge("xmppwatch_service_up", "1 when at least one process of the service is running.");
    auto procs = Gauge("xmppwatch_service_processes", "Processes matching the service.");
    auto cpu = Counter("xmppwatch_service_cpu_seconds_total", "CPU time used by the service's processes.");
    auto rss = Gauge("xmppwatch_service_resident_memory_bytes", "Resident memory of the service's processes.");
    auto threads = Gauge("xmppwatch_service_threads", "Threads of the service's processes.");
    auto fds = Gauge("xmppwatch_service_open_fds", "Open file descriptors of the service's processes.");
    auto start = Gauge("xmppwatch_service_start_time_seconds",
                       "Start time of the service's oldest process, seconds since the epoch.");
    for (std::size_t i = 0; i < specs_.size(); ++i) {
      const Totals& t = totals[i];
      const Labels l{{"service", specs_[i].label}};
      up.Add(t.processes > 0 ? 1 : 0, l);
      procs.Add(t.processes, l);
      if (t.processes == 0) continue;
      cpu.Add(t.user, {{"mode", "user"}, {"service", specs_[i].label}});
      cpu.Add(t.system, {{"mode", "system"}, {"service", specs_[i].label}});
      rss.Add(t.rss, l);
      threads.Add(t.threads, l);
      fds.Add(t.fds, l);
      start.Add(t.started, l);
    }
    std::vector<prometheus::MetricFamily> out;
    for (auto* f : {&cpu, &fds, &procs, &rss, &start, &threads, &up}) Emit(out, std::move(*f));
    return out;
  }

 private:
  void Add(Totals& t, const pids_stack* s) const {
    const double started = boot_time_ + static_cast<double>(ProcTable::At(s, kStarted).result.ull_int) / hz_;
    t.started = t.processes == 0 ? started : std::min(t.started, started);
    ++t.processes;
    t.user += static_cast<double>(ProcTable::At(s, kUtime).result.ull_int) / hz_;
    t.system += static_cast<double>(ProcTable::At(s, kStime).result.ull_int) / hz_;
    t.rss += static_cast<double>(ProcTable::At(s, kRss).result.ul_int) * page_;
    t.threads += ProcTable::At(s, kThreads).result.s_int;
    std::error_code ec;
    const auto fd_dir = proc_ + "/" + std::to_string(ProcTable::At(s, kPid).result.s_int) + "/fd";
    for (auto it = std::filesystem::directory_iterator(fd_dir, ec); !ec && it != std::filesystem::directory_iterator();
         it.increment(ec)) {
      ++t.fds;
    }
  }

  std::string proc_;
  std::vector<ServiceSpec> specs_;
  double hz_, page_;
  double boot_time_ = 0;
  mutable std::mutex mu_;
  mutable ProcTable table_;
  bool with_cmdline_;
};

const CollectorRegistrar kRegistrar({
    .name = "service",
    .enabled_by_default = true,
    .help = "CPU, memory, threads and fds of named services (libproc2; reads the real /proc)",
    .flags = {StringFlag("collector.service.names", "ejabberd=beam.smp,mariadb=mariadbd,haproxy=haproxy",
                         "Comma list of [label=]comm[:cmdline-substring] to watch")},
    .make = [](const CollectorContext& ctx) { return std::make_unique<ServiceCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
