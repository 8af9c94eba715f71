#include "self_metrics.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "log.h"
#include "metric_family.h"
#include "procfs/proc_stat.h"
#include "text_file.h"

namespace xw::exporter {

SelfMetrics::SelfMetrics(std::string procfs) : procfs_(std::move(procfs)) {
  try {
    const std::string path = procfs_ + "/stat";
    boot_time_ = static_cast<double>(ParseProcStat(ReadFile(path), path).boot_time.value_or(0));
  } catch (const std::exception& e) {
    log::Warn("cannot read boot time for process_start_time_seconds", {{"err", e.what()}});
  }
}

std::vector<prometheus::MetricFamily> SelfMetrics::Collect() const {
  std::vector<prometheus::MetricFamily> out;
  Emit(out, Gauge("xmppwatch_exporter_build_info", "A metric with a constant 1 labeled with the exporter's version.")
                .Add(1, {{"version", XMPPWATCH_VERSION}}));
  const std::string text = self_stat_.Read();
  // comm may contain spaces and parentheses: fields start after the last ')'.
  const auto close = text.rfind(')');
  if (close == std::string::npos) return out;
  const auto f = Fields(std::string_view(text).substr(close + 2));
  // Indices after "pid (comm)": state=0, utime=11, stime=12, starttime=19, vsize=20, rss=21.
  if (f.size() < 22) return out;
  const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  auto num = [&](std::size_t i) { return static_cast<double>(ToUint64(f[i]).value_or(0)); };
  Emit(out, Counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.")
                .Add((num(11) + num(12)) / hz));
  Emit(out, Gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.").Add(num(20)));
  Emit(out, Gauge("process_resident_memory_bytes", "Resident memory size in bytes.").Add(num(21) * page));
  Emit(out, Gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.")
                .Add(boot_time_ + num(19) / hz));
  // Since Linux 6.2 the size of /proc/self/fd is the number of open descriptors: one stat
  // instead of listing the directory, which costs a dentry lookup per descriptor (and this
  // exporter keeps its /proc and /sys files open). Older kernels report 0: list it then.
  double fds = 0;
  struct stat st {};
  if (::stat("/proc/self/fd", &st) == 0 && st.st_size > 0) {
    fds = static_cast<double>(st.st_size);
  } else {
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
      ++fds;
    }
  }
  Emit(out, Gauge("process_open_fds", "Number of open file descriptors.").Add(fds));
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    Emit(out,
         Gauge("process_max_fds", "Maximum number of open file descriptors.").Add(static_cast<double>(lim.rlim_cur)));
  }
  return out;
}

}  // namespace xw::exporter
