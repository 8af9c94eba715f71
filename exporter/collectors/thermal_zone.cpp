// node_thermal_zone_temp and node_cooling_device_{cur,max}_state from /sys/class/thermal.
#include <algorithm>

#include "collector.h"
#include "dir_list.h"
#include "metric_family.h"
#include "procfs/sys_value.h"

namespace xw::exporter {
namespace {

// Entries named prefix<suffix>, as (suffix, full path), sorted.
std::vector<std::pair<std::string, std::string>> Entries(const std::vector<DirEntry>& entries, const std::string& dir,
                                                         std::string_view prefix) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& e : entries) {
    if (e.name.starts_with(prefix)) out.emplace_back(e.name.substr(prefix.size()), dir + "/" + e.name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

class ThermalZoneCollector : public Collector {
 public:
  explicit ThermalZoneCollector(const CollectorContext& ctx) : dir_(ctx.paths.Sys("class/thermal")) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::error_code ec;
    const std::vector<DirEntry> entries = ListDirectory(dir_, ec);
    if (ec == std::errc::no_such_file_or_directory) throw NoDataError(dir_ + " does not exist");
    if (ec) throw ParseError(dir_ + ": " + ec.message());
    auto temp = Gauge("node_thermal_zone_temp", "Zone temperature in Celsius");
    for (const auto& [zone, path] : Entries(entries, dir_, "thermal_zone")) {
      // Some ACPI zones fail to read (EAGAIN, ENODATA) while asleep: that zone is skipped.
      const auto type = ReadAttribute(path + "/type");
      const auto t = ReadAttribute(path + "/temp");
      const auto millideg = t ? ParseCInt(*t) : std::nullopt;
      if (!type || !millideg) continue;
      temp.Add(static_cast<double>(*millideg) / 1000.0, {{"zone", zone}, {"type", *type}});
    }
    auto cur = Gauge("node_cooling_device_cur_state", "Current throttle state of the cooling device");
    auto max = Gauge("node_cooling_device_max_state", "Maximum throttle state of the cooling device");
    for (const auto& [name, path] : Entries(entries, dir_, "cooling_device")) {
      const auto type = ReadAttribute(path + "/type");
      const auto c = ReadAttribute(path + "/cur_state");
      const auto m = ReadAttribute(path + "/max_state");
      const auto cv = c ? ParseCInt(*c) : std::nullopt;
      const auto mv = m ? ParseCInt(*m) : std::nullopt;
      if (!type || !cv || !mv) continue;
      const Labels labels{{"name", name}, {"type", *type}};
      cur.Add(static_cast<double>(*cv), labels);
      max.Add(static_cast<double>(*mv), labels);
    }
    std::vector<prometheus::MetricFamily> out;
    Emit(out, std::move(temp));
    Emit(out, std::move(cur));
    Emit(out, std::move(max));
    return out;
  }

 private:
  std::string dir_;
};

const CollectorRegistrar kRegistrar({
    .name = "thermal_zone",
    .enabled_by_default = true,
    .help = "Thermal zone temperatures and cooling device states from /sys/class/thermal",
    .flags = {},
    .make = [](const CollectorContext& ctx) { return std::make_unique<ThermalZoneCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
