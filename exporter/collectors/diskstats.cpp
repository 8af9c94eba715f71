// node_disk_* from /proc/diskstats, plus node_disk_info from udev's database.
#include <optional>

#include "collector.h"
#include "kept_file.h"
#include "match_cache.h"
#include "metric_family.h"
#include "text_file.h"
#include "web_config.h"

namespace xw::exporter {
namespace {

// The kernel counts in 512-byte sectors whatever the device's block size.
constexpr double kSectorBytes = 512;

struct Column {
  std::size_t index;  // 0-based field index in the line
  const char* name;
  const char* help;
  double scale;
  bool counter;
};

// Field positions per Documentation/admin-guide/iostats.rst (after major, minor, name).
constexpr Column kColumns[] = {
    {3, "node_disk_reads_completed_total", "The total number of reads completed successfully.", 1, true},
    {4, "node_disk_reads_merged_total", "The total number of reads merged.", 1, true},
    {5, "node_disk_read_bytes_total", "The total number of bytes read successfully.", kSectorBytes, true},
    {6, "node_disk_read_time_seconds_total", "The total number of seconds spent by all reads.", 0.001, true},
    {7, "node_disk_writes_completed_total", "The total number of writes completed successfully.", 1, true},
    {8, "node_disk_writes_merged_total", "The number of writes merged.", 1, true},
    {9, "node_disk_written_bytes_total", "The total number of bytes written successfully.", kSectorBytes, true},
    {10, "node_disk_write_time_seconds_total", "This is the total number of seconds spent by all writes.", 0.001, true},
    {11, "node_disk_io_now", "The number of I/Os currently in progress.", 1, false},
    {12, "node_disk_io_time_seconds_total", "Total seconds spent doing I/Os.", 0.001, true},
    {13, "node_disk_io_time_weighted_seconds_total", "The weighted # of seconds spent doing I/Os.", 0.001, true},
    {14, "node_disk_discards_completed_total", "The total number of discards completed successfully.", 1, true},
    {15, "node_disk_discards_merged_total", "The total number of discards merged.", 1, true},
    {16, "node_disk_discarded_sectors_total", "The total number of sectors discarded successfully.", 1, true},
    {17, "node_disk_discard_time_seconds_total", "This is the total number of seconds spent by all discards.", 0.001,
     true},
    {18, "node_disk_flush_requests_total", "The total number of flush requests completed successfully", 1, true},
    {19, "node_disk_flush_requests_time_seconds_total",
     "This is the total number of seconds spent by all flush requests.", 0.001, true},
};

class DiskstatsCollector : public Collector {
 public:
  explicit DiskstatsCollector(const CollectorContext& ctx)
      : file_(ctx.paths.Proc("diskstats")),
        udev_dir_(ctx.paths.udev_data),
        exclude_(ctx.Option("collector.diskstats.device-exclude"), "collector.diskstats.device-exclude") {
    // An include list replaces the exclude list, whose default is always set (as netdev).
    if (const auto& include = ctx.Option("collector.diskstats.device-include"); !include.empty()) {
      include_.emplace(include, "collector.diskstats.device-include");
    }
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    const std::string text = file_.Read();
    std::vector<Family> families;
    families.reserve(std::size(kColumns));
    for (const auto& c : kColumns) {
      families.emplace_back(c.name, c.help,
                            c.counter ? prometheus::MetricType::Counter : prometheus::MetricType::Gauge);
    }
    auto info = Gauge("node_disk_info", "Info of /sys/block/<block_device>.");
    std::size_t line_no = 0;
    for (std::string_view line : Lines(text)) {
      ++line_no;
      const auto f = Fields(line);
      if (f.empty()) continue;
      const FileLine where(file_.path(), line_no);
      if (f.size() < 14) throw ParseError(where + ": expected at least 14 fields, got " + std::to_string(f.size()));
      const std::string device(f[2]);
      if (include_ ? !include_->Matches(device) : exclude_.Matches(device)) continue;
      const std::string major(f[0]), minor(f[1]);
      Uint64OrThrow(major, where);
      Uint64OrThrow(minor, where);
      const Labels labels{{"device", device}};
      for (std::size_t i = 0; i < std::size(kColumns); ++i) {
        const auto& c = kColumns[i];
        if (c.index >= f.size()) break;  // older kernels: no discard/flush columns
        families[i].Add(static_cast<double>(Uint64OrThrow(f[c.index], where)) * c.scale, labels);
      }
      AddInfo(info, device, major, minor);
    }
    std::vector<prometheus::MetricFamily> out;
    for (auto& f : families) Emit(out, std::move(f));
    Emit(out, std::move(info));
    return out;
  }

 private:
  void AddInfo(Family& info, const std::string& device, const std::string& major, const std::string& minor) const {
    std::map<std::string, std::string> props;
    if (auto data = ReadFileIfExists(udev_dir_ + "/b" + major + ":" + minor)) {
      for (std::string_view line : Lines(*data)) {
        if (!line.starts_with("E:")) continue;
        const auto eq = line.find('=');
        if (eq == std::string_view::npos) continue;
        props.emplace(std::string(line.substr(2, eq - 2)), std::string(line.substr(eq + 1)));
      }
    }
    auto prop = [&](const char* key) {
      auto it = props.find(key);
      return it == props.end() ? std::string() : it->second;
    };
    info.Add(1, {{"device", device},
                 {"major", major},
                 {"minor", minor},
                 {"model", prop("ID_MODEL")},
                 {"path", prop("ID_PATH")},
                 {"revision", prop("ID_REVISION")},
                 {"serial", prop("ID_SERIAL_SHORT")},
                 {"wwn", prop("ID_WWN")}});
  }

  mutable KeptFile file_;
  std::string udev_dir_;
  MatchCache exclude_;
  std::optional<MatchCache> include_;
};

const CollectorRegistrar kRegistrar({
    .name = "diskstats",
    .enabled_by_default = true,
    .help = "Disk I/O statistics from /proc/diskstats",
    .flags = {RegexFlag("collector.diskstats.device-exclude", "^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$",
                        "Regexp of diskstats devices to exclude", {"collector.diskstats.ignored-devices"}),
              RegexFlag("collector.diskstats.device-include", "",
                        "Regexp of diskstats devices to include (replaces the exclude list)")},
    .make = [](const CollectorContext& ctx) { return std::make_unique<DiskstatsCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
