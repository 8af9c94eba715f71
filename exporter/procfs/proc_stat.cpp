#include "proc_stat.h"

#include "text_file.h"

namespace xw::exporter {
namespace {

std::uint64_t Field(const std::vector<std::string_view>& f, std::size_t i, const FileLine& where) {
  return i < f.size() ? Uint64OrThrow(f[i], where) : 0;
}

}  // namespace

ProcStat ParseProcStat(std::string_view text, const std::string& source) {
  ProcStat st;
  std::size_t line_no = 0;
  for (std::string_view line : Lines(text)) {
    ++line_no;
    if (line.empty()) continue;
    const auto f = Fields(line);
    if (f.empty()) continue;
    const FileLine where(source, line_no);
    const std::string_view key = f[0];
    if (key.starts_with("cpu")) {
      if (key == "cpu") continue;  // the aggregate: node_exporter exports per cpu only
      const auto n = ToUint64(key.substr(3));
      if (!n) throw ParseError(where + ": bad cpu name '" + std::string(key) + "'");
      if (f.size() < 5)
        throw ParseError(where + ": cpu line has " + std::to_string(f.size() - 1) + " fields, need at least 4");
      CpuTimes c;
      c.cpu = static_cast<int>(*n);
      c.user = Field(f, 1, where);
      c.nice = Field(f, 2, where);
      c.system = Field(f, 3, where);
      c.idle = Field(f, 4, where);
      c.iowait = Field(f, 5, where);
      c.irq = Field(f, 6, where);
      c.softirq = Field(f, 7, where);
      c.steal = Field(f, 8, where);
      c.guest = Field(f, 9, where);
      c.guest_nice = Field(f, 10, where);
      st.cpus.push_back(c);
      continue;
    }
    if (f.size() < 2) continue;
    if (key == "btime")
      st.boot_time = Uint64OrThrow(f[1], where);
    else if (key == "ctxt")
      st.context_switches = Uint64OrThrow(f[1], where);
    else if (key == "processes")
      st.forks = Uint64OrThrow(f[1], where);
    else if (key == "intr")
      st.interrupts = Uint64OrThrow(f[1], where);
    else if (key == "procs_running")
      st.procs_running = Uint64OrThrow(f[1], where);
    else if (key == "procs_blocked")
      st.procs_blocked = Uint64OrThrow(f[1], where);
  }
  return st;
}

}  // namespace xw::exporter
