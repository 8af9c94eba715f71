// Starts our exporter and, when asked, Debian's node_exporter with the same collectors.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "exposition.h"
#include "subprocess.h"

namespace xw::testing {

// The collectors both exporters have: the set compared for names and values.
inline const std::vector<std::string> kSharedCollectors = {
    "arp",        "conntrack", "cpu",          "cpufreq",   "diskstats", "edac",       "entropy",  "filefd",
    "filesystem", "hwmon",     "interrupts",   "loadavg",   "mdadm",     "meminfo",    "netclass", "netdev",
    "netstat",    "os",        "pressure",     "processes", "schedstat", "selinux",    "sockstat", "softnet",
    "stat",       "textfile",  "thermal_zone", "time",      "timex",     "udp_queues", "uname",    "vmstat"};

std::vector<std::string> CollectorFlags();

struct RunningExporter {
  TempDir dir;
  int port = 0;
  std::unique_ptr<Subprocess> process;
  std::string Scrape() const { return HttpGet("127.0.0.1", port, "/metrics"); }
};

// Throws std::runtime_error (with the daemon's log) if it does not come up.
std::unique_ptr<RunningExporter> StartOurs(std::vector<std::string> extra_flags = {});
std::unique_ptr<RunningExporter> StartNodeExporter(std::vector<std::string> extra_flags = {});

// family name -> parsed family
std::map<std::string, ParsedFamily> ByName(const std::string& exposition);

}  // namespace xw::testing
