// Our exporter and Debian's prometheus-node-exporter side by side on loopback, same
// collectors: every family and series node_exporter serves, we serve, and the values agree.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "exporter_fixture.h"

namespace xw::testing {
namespace {

// Series that node_exporter has and we deliberately do not: its Go runtime and HTTP handler
// internals, and process_* (each exporter describes its own process, so values differ).
// Listed in docs/node-exporter-compatibility.md.
bool IsRuntimeOnly(const std::string& family) {
  return family.starts_with("go_") || family.starts_with("promhttp_") || family == "node_exporter_build_info" ||
         family.starts_with("process_") || family.starts_with("node_scrape_collector_");
}

// Values that cannot differ between two reads a few milliseconds apart.
bool IsExact(const std::string& f) {
  static const std::set<std::string> kExact = {"node_filesystem_size_bytes",
                                               "node_filesystem_files",
                                               "node_filesystem_readonly",
                                               "node_filesystem_device_error",
                                               "node_memory_MemTotal_bytes",
                                               "node_memory_SwapTotal_bytes",
                                               "node_memory_HugePages_Total",
                                               "node_memory_Hugepagesize_bytes",
                                               "node_boot_time_seconds",
                                               "node_uname_info",
                                               "node_disk_info",
                                               "node_time_zone_offset_seconds",
                                               "node_time_clocksource_available_info",
                                               "node_time_clocksource_current_info",
                                               "node_processes_max_processes",
                                               "node_processes_max_threads",
                                               "node_filefd_maximum",
                                               "node_entropy_pool_size_bits",
                                               "node_nf_conntrack_entries_limit",
                                               "node_os_info",
                                               "node_os_version",
                                               "node_selinux_enabled",
                                               "node_network_info",
                                               "node_network_mtu_bytes",
                                               "node_network_flags",
                                               "node_network_iface_id",
                                               "node_network_speed_bytes",
                                               "node_timex_tick_seconds",
                                               "node_timex_status",
                                               "node_timex_sync_status",
                                               "node_textfile_mtime_seconds",
                                               "node_textfile_scrape_error",
                                               "xmppwatch_backup_size_bytes"};
  return kExact.contains(f);
}

// How far a gauge may move between node_exporter's two reads and ours (beyond the bracket).
double Slack(const std::string& f, double magnitude) {
  if (f.starts_with("node_memory_")) return std::max(8.0 * 1024 * 1024, 0.02 * magnitude);
  if (f.starts_with("node_filesystem_")) return 16.0 * 1024 * 1024;
  if (f.starts_with("node_processes_") || f.starts_with("node_procs_")) return 5;
  if (f.starts_with("node_load")) return 0.1;
  if (f == "node_disk_io_now") return 4;
  if (f == "node_time_seconds") return 0.05;
  // Sockets, connections and open files come and go with every scrape on a shared machine
  // (each scrape is a TCP connection that ends in TIME_WAIT); kernel memory is in pages.
  if (f.starts_with("node_sockstat_")) return f.ends_with("_bytes") ? 256.0 * 4096 : 64;
  if (f == "node_netstat_Tcp_CurrEstab") return 16;
  if (f == "node_filefd_allocated") return 512;
  if (f == "node_nf_conntrack_entries") return 64;
  if (f == "node_udp_queues") return 1 << 20;
  if (f == "node_arp_entries") return 2;
  if (f == "node_entropy_available_bits") return 64;
  // The clock discipline drifts between reads: maxerror grows 500 ppm, the offset and
  // frequency follow the NTP daemon if one runs.
  if (f == "node_timex_maxerror_seconds" || f == "node_timex_estimated_error_seconds" ||
      f == "node_timex_offset_seconds") {
    return 0.01;
  }
  if (f == "node_timex_frequency_adjustment_ratio") return 1e-5;
  return 0;
}

std::string Key(const ParsedSample& s) {
  std::string k = s.name + "{";
  for (const auto& [n, v] : s.labels) k += n + "=\"" + v + "\",";
  return k + "}";
}

std::map<std::string, double> Series(const ParsedFamily& f) {
  std::map<std::string, double> out;
  for (const auto& s : f.samples) out[Key(s)] = s.value;
  return out;
}

TEST(NodeExporterCompat, SameFamiliesSeriesAndValues) {
  // Both read the same textfile directory: merged families, default HELP, histogram, mtimes.
  auto flags = CollectorFlags();
  flags.push_back("--collector.textfile.directory=" XMPPWATCH_FIXTURE_DIR "/textfile/good");
  auto ne = StartNodeExporter(flags);
  auto ours = StartOurs(flags);
  // Bracket our read between two of node_exporter's.
  const auto before = ByName(ne->Scrape());
  const auto mine = ByName(ours->Scrape());
  const auto after = ByName(ne->Scrape());

  int compared = 0, exact = 0;
  for (const auto& [name, theirs] : before) {
    if (IsRuntimeOnly(name)) continue;
    const auto it = mine.find(name);
    ASSERT_NE(it, mine.end()) << "we do not export " << name;
    EXPECT_EQ(it->second.type, theirs.type) << name;
    EXPECT_EQ(it->second.help, theirs.help) << name;
    const auto a = Series(theirs);
    const auto b = Series(it->second);
    const auto c = Series(after.at(name));
    for (const auto& [key, v0] : a) {
      if (!c.contains(key)) continue;  // a process or device that came or went between reads
      const auto ours_it = b.find(key);
      if (name.starts_with("node_processes_state") || name.starts_with("node_processes_threads_state")) {
        // A state with one member can empty between reads; the total is checked via _pids.
        if (ours_it == b.end()) continue;
      }
      ASSERT_NE(ours_it, b.end()) << "missing series " << key;
      const double v2 = c.at(key), mine_v = ours_it->second;
      ++compared;
      if (IsExact(name)) {
        ++exact;
        EXPECT_EQ(mine_v, v0) << key;
        continue;
      }
      const double lo = std::min(v0, v2), hi = std::max(v0, v2);
      const double slack = theirs.type == "counter" ? 1e-9 * std::abs(hi) + 1e-6 : Slack(name, std::abs(hi));
      EXPECT_GE(mine_v, lo - slack) << key << " node_exporter read " << v0 << " then " << v2;
      EXPECT_LE(mine_v, hi + slack) << key << " node_exporter read " << v0 << " then " << v2;
    }
  }
  std::printf("compared %d series present in both (%d exactly), %zu families\n", compared, exact, before.size());
  EXPECT_GT(compared, 100);
}

}  // namespace
}  // namespace xw::testing
