// node_network_* device properties from /sys/class/net/<iface>/: up, info, carrier, mtu,
// speed and the rest, as node_exporter's netclass collector (sysfs variant) names them.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>

#include "collector.h"
#include "match_cache.h"
#include "metric_family.h"
#include "procfs/sys_value.h"
#include "web_config.h"

namespace xw::exporter {
namespace {

struct Property {
  const char* file;    // attribute under /sys/class/net/<iface>/
  const char* metric;  // node_network_<metric>
  bool counter;
};

// node_exporter's order; speed_bytes is derived from "speed" separately.
constexpr Property kProperties[] = {
    {"addr_assign_type", "address_assign_type", false},
    {"carrier", "carrier", false},
    {"carrier_changes", "carrier_changes_total", true},
    {"carrier_up_count", "carrier_up_changes_total", true},
    {"carrier_down_count", "carrier_down_changes_total", true},
    {"dev_id", "device_id", false},
    {"dormant", "dormant", false},
    {"flags", "flags", false},
    {"ifindex", "iface_id", false},
    {"iflink", "iface_link", false},
    {"link_mode", "iface_link_mode", false},
    {"mtu", "mtu_bytes", false},
    {"name_assign_type", "name_assign_type", false},
    {"netdev_group", "net_dev_group", false},
    {"tx_queue_len", "transmit_queue_length", false},
    {"type", "protocol_type", false},
};
constexpr std::size_t kNumProps = std::size(kProperties);
// After the properties: the info labels and speed.
constexpr const char* kOther[] = {"operstate", "address", "broadcast", "duplex", "ifalias", "speed"};
enum Other : std::size_t { kOperstate = kNumProps, kAddress, kBroadcast, kDuplex, kIfalias, kSpeed, kNumAttrs };

const char* AttrName(std::size_t i) { return i < kNumProps ? kProperties[i].file : kOther[i - kNumProps]; }

// One device's attribute files kept open between scrapes and re-read with pread, one syscall
// each instead of three (open, read, close cost ~15 us per attribute on a busy VM, ~20
// attributes per device). The directory's inode tells a device recreated under the same name.
class DeviceFiles {
 public:
  DeviceFiles(const std::string& dir, ino_t ino) : ino_(ino) {
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    for (std::size_t i = 0; i < kNumAttrs; ++i) fds_[i] = dfd < 0 ? -1 : ::openat(dfd, AttrName(i), O_RDONLY | O_CLOEXEC);
    if (dfd >= 0) ::close(dfd);
  }
  ~DeviceFiles() {
    for (int fd : fds_) {
      if (fd >= 0) ::close(fd);
    }
  }
  DeviceFiles(const DeviceFiles&) = delete;
  DeviceFiles& operator=(const DeviceFiles&) = delete;

  ino_t ino() const { return ino_; }
  std::optional<std::string> Read(std::size_t attr) const { return PreadAttribute(fds_[attr]); }

 private:
  ino_t ino_;
  std::array<int, kNumAttrs> fds_{};
};

// Bounds the descriptors held: beyond this many devices (container hosts with hundreds of
// veths) the rest are read the plain way.
constexpr std::size_t kMaxCachedDevices = 8;

class NetclassCollector : public Collector {
 public:
  explicit NetclassCollector(const CollectorContext& ctx)
      : dir_(ctx.paths.Sys("class/net")),
        ignored_(ctx.Option("collector.netclass.ignored-devices"), "collector.netclass.ignored-devices") {
    const auto& v = ctx.Option("collector.netclass.ignore-invalid-speed");
    if (v != "true" && v != "false") {
      throw ConfigError("--collector.netclass.ignore-invalid-speed: expected true or false, got '" + v + "'");
    }
    ignore_invalid_speed_ = v == "true";
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::error_code ec;
    std::filesystem::directory_iterator it(dir_, ec);
    if (ec) throw NoDataError(dir_ + ": " + ec.message());
    std::vector<std::string> devices;
    for (const auto& entry : it) {
      // bonding_masters is a plain file among the device links.
      if (entry.is_regular_file(ec)) continue;
      const std::string name = entry.path().filename().string();
      if (!ignored_.Matches(name)) devices.push_back(name);
    }
    std::sort(devices.begin(), devices.end());

    auto up = Gauge("node_network_up", "Value is 1 if operstate is 'up', 0 otherwise.");
    auto info = Gauge("node_network_info", "Non-numeric data from /sys/class/net/<iface>, value is always 1.");
    std::vector<Family> props;
    for (const auto& p : kProperties) {
      const std::string help = std::string("Network device property: ") + p.metric;
      props.push_back(p.counter ? Counter(std::string("node_network_") + p.metric, help)
                                : Gauge(std::string("node_network_") + p.metric, help));
    }
    auto speed = Gauge("node_network_speed_bytes", "Network device property: speed_bytes");

    std::lock_guard lock(mu_);
    Forget(devices);
    for (const auto& dev : devices) {
      const std::string path = dir_ + "/" + dev;
      struct stat sb{};
      if (::stat(path.c_str(), &sb) != 0) continue;  // went away since the listing
      const DeviceFiles* cached = Cached(dev, path, sb.st_ino);
      std::optional<SysDir> plain;
      if (!cached) plain.emplace(path);
      auto read = [&](std::size_t attr) { return cached ? cached->Read(attr) : plain->Read(AttrName(attr)); };

      const Labels labels{{"device", dev}};
      const std::string operstate = read(kOperstate).value_or("");
      up.Add(operstate == "up" ? 1 : 0, labels);
      info.Add(1, {{"device", dev},
                   {"address", read(kAddress).value_or("")},
                   {"broadcast", read(kBroadcast).value_or("")},
                   {"duplex", read(kDuplex).value_or("")},
                   {"operstate", operstate},
                   {"ifalias", read(kIfalias).value_or("")}});
      for (std::size_t i = 0; i < kNumProps; ++i) {
        // Unreadable (EINVAL on a down link) or unparsable: absent, as in node_exporter.
        const auto text = read(i);
        if (!text) continue;
        if (const auto v = ParseCInt(*text)) props[i].Add(static_cast<double>(*v), labels);
      }
      if (const auto text = read(kSpeed)) {
        // Virtual NICs report -1 (unknown); node_exporter 1.5 still exports it unless told not to.
        if (const auto mbps = ParseCInt(*text); mbps && (*mbps >= 0 || !ignore_invalid_speed_)) {
          speed.Add(static_cast<double>(*mbps * 1000 * 1000 / 8), labels);
        }
      }
    }
    std::vector<prometheus::MetricFamily> out;
    Emit(out, std::move(up));
    Emit(out, std::move(info));
    for (auto& f : props) Emit(out, std::move(f));
    Emit(out, std::move(speed));
    return out;
  }

 private:
  // Drops devices that disappeared, closing their files.
  void Forget(const std::vector<std::string>& present) const {
    for (auto it = cache_.begin(); it != cache_.end();) {
      it = std::binary_search(present.begin(), present.end(), it->first) ? std::next(it) : cache_.erase(it);
    }
  }

  // The device's open files, (re)opened when it is new or was recreated; nullptr when the
  // cache is full.
  const DeviceFiles* Cached(const std::string& dev, const std::string& path, ino_t ino) const {
    auto it = cache_.find(dev);
    if (it != cache_.end() && it->second->ino() == ino) return it->second.get();
    if (it == cache_.end() && cache_.size() >= kMaxCachedDevices) return nullptr;
    auto files = std::make_unique<DeviceFiles>(path, ino);
    const DeviceFiles* p = files.get();
    cache_[dev] = std::move(files);
    return p;
  }

  std::string dir_;
  MatchCache ignored_;
  bool ignore_invalid_speed_ = false;
  mutable std::mutex mu_;  // scrapes may overlap; the cache is shared
  mutable std::map<std::string, std::unique_ptr<DeviceFiles>> cache_;
};

const CollectorRegistrar kRegistrar({
    .name = "netclass",
    .enabled_by_default = true,
    .help = "Network device properties from /sys/class/net",
    .flags = {{"collector.netclass.ignored-devices", "^$", "Regexp of net devices to ignore for netclass collector"},
              {"collector.netclass.ignore-invalid-speed", "false",
               "true: leave out node_network_speed_bytes where the speed is invalid (-1)"}},
    .make = [](const CollectorContext& ctx) { return std::make_unique<NetclassCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
