// System time, time zone and clock sources.
#include <ctime>
#include <filesystem>

#include "collector.h"
#include "kept_file.h"
#include "metric_family.h"
#include "text_file.h"

namespace xw::exporter {
namespace {

class TimeCollector : public Collector {
 public:
  // Clock source devices are fixed at boot: listed once, their two files kept open.
  explicit TimeCollector(const CollectorContext& ctx) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(ctx.paths.Sys("devices/system/clocksource"), ec)) {
      const std::string name = entry.path().filename().string();
      if (!name.starts_with("clocksource")) continue;
      sources_.push_back({name.substr(11), std::make_unique<KeptFile>(entry.path() / "available_clocksource"),
                          std::make_unique<KeptFile>(entry.path() / "current_clocksource")});
    }
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    std::tm local{};
    localtime_r(&ts.tv_sec, &local);
    std::vector<prometheus::MetricFamily> out;
    Emit(out, Gauge("node_time_seconds", "System time in seconds since epoch (1970).")
                  .Add(static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9));
    Emit(out, Gauge("node_time_zone_offset_seconds", "System time zone offset in seconds.")
                  .Add(static_cast<double>(local.tm_gmtoff), {{"time_zone", local.tm_zone ? local.tm_zone : ""}}));

    auto available = Gauge("node_time_clocksource_available_info",
                           "Available clocksources read from '/sys/devices/system/clocksource'.");
    auto current =
        Gauge("node_time_clocksource_current_info", "Current clocksource read from '/sys/devices/system/clocksource'.");
    for (const auto& [device, available_file, current_file] : sources_) {
      const auto avail = available_file->ReadIfExists();
      const auto cur = current_file->ReadIfExists();
      if (avail) {
        for (auto src : Fields(Trim(*avail))) available.Add(1, {{"clocksource", std::string(src)}, {"device", device}});
      }
      if (cur && !Trim(*cur).empty()) current.Add(1, {{"clocksource", std::string(Trim(*cur))}, {"device", device}});
    }
    Emit(out, std::move(available));
    Emit(out, std::move(current));
    return out;
  }

 private:
  struct Source {
    std::string device;  // "0" of clocksource0
    std::unique_ptr<KeptFile> available, current;
  };
  std::vector<Source> sources_;
};

const CollectorRegistrar kRegistrar({
    .name = "time",
    .enabled_by_default = true,
    .help = "System time, time zone and clock sources",
    .flags = {},
    .make = [](const CollectorContext& ctx) { return std::make_unique<TimeCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
