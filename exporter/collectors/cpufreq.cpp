// node_cpu_frequency_* and node_cpu_scaling_frequency_* per CPU from
// /sys/devices/system/cpu/cpuN/cpufreq (kHz there, hertz here). CPUs without cpufreq (most
// VMs) are skipped; the collector then succeeds with nothing, as node_exporter's does.
#include <algorithm>
#include <filesystem>

#include "collector.h"
#include "dir_list.h"
#include "metric_family.h"
#include "procfs/sys_value.h"
#include "text_file.h"

namespace xw::exporter {
namespace {

struct Field {
  const char* file;
  const char* metric;
  const char* help;
};

constexpr Field kFields[] = {
    {"cpuinfo_cur_freq", "node_cpu_frequency_hertz", "Current cpu thread frequency in hertz."},
    {"cpuinfo_max_freq", "node_cpu_frequency_max_hertz", "Maximum cpu thread frequency in hertz."},
    {"cpuinfo_min_freq", "node_cpu_frequency_min_hertz", "Minimum cpu thread frequency in hertz."},
    {"scaling_cur_freq", "node_cpu_scaling_frequency_hertz", "Current scaled CPU thread frequency in hertz."},
    {"scaling_max_freq", "node_cpu_scaling_frequency_max_hertz", "Maximum scaled CPU thread frequency in hertz."},
    {"scaling_min_freq", "node_cpu_scaling_frequency_min_hertz", "Minimum scaled CPU thread frequency in hertz."},
};

class CpufreqCollector : public Collector {
 public:
  explicit CpufreqCollector(const CollectorContext& ctx) : dir_(ctx.paths.Sys("devices/system/cpu")) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<std::pair<long, std::string>> cpus;  // numeric order: cpu10 after cpu9
    std::error_code ec;
    for (const auto& e : ListDirectory(dir_, ec)) {
      if (!e.name.starts_with("cpu")) continue;
      const auto n = ToUint64(std::string_view(e.name).substr(3));
      if (n) cpus.emplace_back(static_cast<long>(*n), dir_ + "/" + e.name + "/cpufreq/");
    }
    std::sort(cpus.begin(), cpus.end());
    std::vector<Family> families;
    for (const auto& f : kFields) families.push_back(Gauge(f.metric, f.help));
    for (const auto& [n, dir] : cpus) {
      // One stat instead of six failing opens on CPUs without cpufreq (most VMs).
      if (!std::filesystem::is_directory(dir, ec)) continue;
      const Labels labels{{"cpu", std::to_string(n)}};
      for (std::size_t i = 0; i < std::size(kFields); ++i) {
        // cpuinfo_cur_freq is readable by root only: absent otherwise, as in node_exporter.
        const auto text = ReadAttribute(dir + kFields[i].file);
        const auto khz = text ? ToUint64(*text) : std::nullopt;
        if (khz) families[i].Add(static_cast<double>(*khz) * 1000.0, labels);
      }
    }
    std::vector<prometheus::MetricFamily> out;
    for (auto& f : families) Emit(out, std::move(f));
    return out;
  }

 private:
  std::string dir_;
};

const CollectorRegistrar kRegistrar({
    .name = "cpufreq",
    .enabled_by_default = true,
    .help = "CPU frequencies from /sys/devices/system/cpu/cpuN/cpufreq",
    .flags = {},
    .make = [](const CollectorContext& ctx) { return std::make_unique<CpufreqCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
