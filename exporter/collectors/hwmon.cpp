// node_hwmon_*: hardware sensors (temperatures, voltages, fans, power) from /sys/class/hwmon,
// named, labelled and scaled as node_exporter 1.5 does (lm-sensors' view of the same files).
#include <algorithm>
#include <filesystem>
#include <map>

#include "collector.h"
#include "metric_family.h"
#include "procfs/sys_value.h"
#include "text_file.h"

namespace xw::exporter {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kSensorTypes[] = {
    "vrm",  "beep_enable", "update_interval", "in",     "cpu",      "fan",      "pwm",
    "temp", "curr",        "power",           "energy", "humidity", "intrusion"};

// Lower case, [^a-z0-9:_] to '_', outer '_' trimmed.
std::string Clean(std::string_view s) {
  std::string out;
  for (char c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ':' || c == '_';
    out.push_back(ok ? c : '_');
  }
  const auto b = out.find_first_not_of('_');
  if (b == std::string::npos) return {};
  return out.substr(b, out.find_last_not_of('_') - b + 1);
}

struct SensorFile {
  std::string type, property;
  int num = 0;
};

// "temp1_crit_alarm" -> {temp, 1, crit_alarm}; node_exporter's
// ^(?P<type>[^0-9]+)(?P<id>[0-9]*)?(_(?P<property>.+))?$ without a regexp.
std::optional<SensorFile> Explode(std::string_view name) {
  std::size_t i = 0;
  while (i < name.size() && !std::isdigit(static_cast<unsigned char>(name[i]))) ++i;
  if (i == 0) return std::nullopt;
  SensorFile f;
  f.type = std::string(name.substr(0, i));
  const std::size_t d = i;
  while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i]))) ++i;
  if (i > d) {
    const auto n = ToUint64(name.substr(d, i - d));
    if (!n || *n > 1000000) return std::nullopt;
    f.num = static_cast<int>(*n);
  }
  if (i < name.size()) {
    if (name[i] != '_' || i + 1 == name.size()) return std::nullopt;
    f.property = std::string(name.substr(i + 1));
  }
  return f;
}

using SensorData = std::map<std::string, std::map<std::string, std::string>>;  // sensor -> property -> value

void CollectSensorData(const fs::path& dir, SensorData& data) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    const auto f = Explode(name);
    if (!f || std::find(std::begin(kSensorTypes), std::end(kSensorTypes), f->type) == std::end(kSensorTypes)) continue;
    // Write-only attributes and drivers that answer EAGAIN are skipped, as in node_exporter.
    if (auto v = ReadAttribute(e.path().string())) data[f->type + std::to_string(f->num)][f->property] = std::move(*v);
  }
}

// Stable chip name: bus type and device from the device link, else the name file, else hwmonN.
std::string ChipName(const fs::path& dir) {
  std::error_code ec;
  const fs::path dev = fs::canonical(dir / "device", ec);
  if (!ec) {
    std::string name = Clean(dev.filename().string());
    const std::string type = Clean(dev.parent_path().filename().string());
    if (!type.empty() && !name.empty()) return type + "_" + name;
    if (!name.empty()) return name;
  }
  if (const auto n = ReadAttribute((dir / "name").string()); n && !Clean(*n).empty()) return Clean(*n);
  const fs::path real = fs::canonical(dir, ec);
  return Clean((ec ? dir : real).filename().string());
}

class Families {
 public:
  void Add(const std::string& name, const std::string& help, double v, const Labels& labels, bool counter = false) {
    auto it = families_.find(name);
    if (it == families_.end()) it = families_.emplace(name, counter ? Counter(name, help) : Gauge(name, help)).first;
    it->second.Add(v, labels);
  }
  std::vector<prometheus::MetricFamily> Take() {
    std::vector<prometheus::MetricFamily> out;
    for (auto& [name, f] : families_) Emit(out, std::move(f));
    return out;
  }

 private:
  std::map<std::string, Family> families_;
};

void Element(Families& out, const std::string& type, const std::string& element, const std::string& base, double v,
             const Labels& labels) {
  const std::string& e = element;
  if (e == "fault" || e == "alarm") return out.Add(base, "Hardware sensor " + e + " status (" + type + ")", v, labels);
  if (e == "beep") return out.Add(base + "_enabled", "Hardware monitor sensor has beeping enabled", v, labels);
  if (type == "in" || type == "cpu")
    return out.Add(base + "_volts", "Hardware monitor for voltage (" + e + ")", v * 0.001, labels);
  if (type == "temp" && e != "type") {
    return out.Add(base + "_celsius", "Hardware monitor for temperature (" + e + ")", v * 0.001, labels);
  }
  if (type == "curr") return out.Add(base + "_amps", "Hardware monitor for current (" + e + ")", v * 0.001, labels);
  if (type == "energy") {
    return out.Add(base + "_joule_total", "Hardware monitor for joules used so far (" + e + ")", v / 1e6, labels, true);
  }
  if (type == "power" && e == "accuracy") {
    return out.Add(base, "Hardware monitor power meter accuracy, as a ratio", v / 1e6, labels);
  }
  if (type == "power" && (e == "average_interval" || e == "average_interval_min" || e == "average_interval_max")) {
    return out.Add(base + "_seconds", "Hardware monitor power usage update interval (" + e + ")", v * 0.001, labels);
  }
  if (type == "power")
    return out.Add(base + "_watt", "Hardware monitor for power usage in watts (" + e + ")", v / 1e6, labels);
  if (type == "humidity") {
    return out.Add(base,
                   "Hardware monitor for humidity, as a ratio (multiply with 100.0 to get the humidity as a "
                   "percentage) (" +
                       e + ")",
                   v / 1e6, labels);
  }
  if (type == "fan" && (e == "input" || e == "min" || e == "max" || e == "target")) {
    return out.Add(base + "_rpm", "Hardware monitor for fan revolutions per minute (" + e + ")", v, labels);
  }
  out.Add(base, "Hardware monitor " + type + " element " + e, v, labels);
}

void UpdateChip(const fs::path& dir, Families& out) {
  const std::string chip = ChipName(dir);
  SensorData data;
  CollectSensorData(dir, data);
  std::error_code ec;
  if (fs::exists(dir / "device", ec)) CollectSensorData(dir / "device", data);
  if (const auto n = ReadAttribute((dir / "name").string()); n && !Clean(*n).empty()) {
    out.Add("node_hwmon_chip_names", "Annotation metric for human-readable chip names", 1,
            {{"chip", chip}, {"chip_name", Clean(*n)}});
  }
  for (const auto& [sensor, props] : data) {
    const std::string type = Explode(sensor)->type;
    const Labels labels{{"chip", chip}, {"sensor", sensor}};
    if (const auto l = props.find("label"); l != props.end()) {
      out.Add("node_hwmon_sensor_label", "Label for given chip and sensor", 1,
              {{"chip", chip}, {"sensor", sensor}, {"label", l->second}});
    }
    const auto plain = props.find("");
    if (type == "beep_enable") {
      out.Add("node_hwmon_beep_enabled", "Hardware beep enabled", plain != props.end() && plain->second == "1", labels);
      continue;
    }
    if (type == "vrm" || type == "update_interval") {
      const auto v = plain == props.end() ? std::nullopt : ToDouble(plain->second);
      if (!v) continue;
      if (type == "vrm")
        out.Add("node_hwmon_voltage_regulator_version", "Hardware voltage regulator", *v, labels);
      else
        out.Add("node_hwmon_update_interval_seconds", "Hardware monitor update interval", *v * 0.001, labels);
      continue;
    }
    for (const auto& [element, value] : props) {
      if (element == "label") continue;
      std::string name = "node_hwmon_" + type;
      // "input" is the reading itself; it keeps its suffix only next to a bare "tempN" file.
      if (element == "input") {
        if (plain != props.end()) name += "_input";
      } else if (!element.empty()) {
        name += "_" + Clean(element);
      }
      if (const auto v = ToDouble(value)) Element(out, type, element, name, *v, labels);
    }
  }
}

class HwmonCollector : public Collector {
 public:
  explicit HwmonCollector(const CollectorContext& ctx) : dir_(ctx.paths.Sys("class/hwmon")) {}

  std::string NoSource() const override { return Missing(dir_); }

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::error_code ec;
    fs::directory_iterator it(dir_, ec);
    if (ec) throw NoDataError(dir_ + ": " + ec.message());
    std::vector<fs::path> chips;
    for (const auto& e : it) {
      if (e.is_directory(ec)) chips.push_back(e.path());  // follows the hwmonN links
    }
    std::sort(chips.begin(), chips.end());
    Families out;
    for (const auto& chip : chips) UpdateChip(chip, out);
    return out.Take();
  }

 private:
  std::string dir_;
};

const CollectorRegistrar kRegistrar({
    .name = "hwmon",
    .enabled_by_default = true,
    .help = "Hardware sensors from /sys/class/hwmon",
    .flags = {},
    .make = [](const CollectorContext& ctx) { return std::make_unique<HwmonCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
