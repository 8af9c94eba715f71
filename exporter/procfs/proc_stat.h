// /proc/stat, read by both the cpu and the stat collectors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xw::exporter {

struct CpuTimes {
  int cpu = -1;  // -1 for the aggregate "cpu" line
  // In USER_HZ ticks, as the kernel prints them.
  std::uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0, guest = 0,
                guest_nice = 0;
};

struct ProcStat {
  std::vector<CpuTimes> cpus;  // per-cpu lines only, in file order
  std::optional<std::uint64_t> boot_time, context_switches, forks, interrupts, procs_running, procs_blocked;
};

// Throws ParseError naming `source` and the line for malformed content (a cpu line with fewer
// than the four fields every kernel prints, a non-number). Unknown lines are ignored.
ProcStat ParseProcStat(std::string_view text, const std::string& source);

}  // namespace xw::exporter
