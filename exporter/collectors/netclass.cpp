// node_network_* device properties from /sys/class/net/<iface>/: up, info, carrier, mtu,
// speed and the rest, as node_exporter's netclass collector (sysfs variant) names them.
#include <dirent.h>
#include <fcntl.h>
#include <linux/if.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <map>
#include <mutex>
#include <optional>

#include "collector.h"
#include "dir_list.h"
#include "log.h"
#include "match_cache.h"
#include "metric_family.h"
#include "procfs/rtnl_links.h"
#include "procfs/sys_value.h"
#include "unique_fd.h"

namespace xw::exporter {
namespace {

// An attribute as its sysfs file would read, rebuilt from the rtnetlink dump; nullptr where
// the dump does not carry it (or carries something else: its flags are dev_get_flags(), not
// the file's dev->flags) and the file is read.
using FromDump = std::optional<std::string> (*)(const RtnlLink&);

template <typename T>
std::optional<std::string> Decimal(const std::optional<T>& v) {
  if (!v) return std::nullopt;
  return std::to_string(static_cast<std::uint64_t>(*v));
}
// sysfs answers EINVAL for carrier and dormant while the device is down.
bool Running(const RtnlLink& l) {
  return (l.flags & IFF_UP) != 0;
}

struct Property {
  const char* file;    // attribute under /sys/class/net/<iface>/
  const char* metric;  // node_network_<metric>
  bool counter;
  FromDump from_dump;
};

// node_exporter's order; speed_bytes is derived from "speed" separately.
constexpr Property kProperties[] = {
    {"addr_assign_type", "address_assign_type", false, nullptr},
    {"carrier", "carrier", false, [](const RtnlLink& l) { return Running(l) ? Decimal(l.carrier) : std::nullopt; }},
    {"carrier_changes", "carrier_changes_total", true, [](const RtnlLink& l) { return Decimal(l.carrier_changes); }},
    {"carrier_up_count", "carrier_up_changes_total", true,
     [](const RtnlLink& l) { return Decimal(l.carrier_up_count); }},
    {"carrier_down_count", "carrier_down_changes_total", true,
     [](const RtnlLink& l) { return Decimal(l.carrier_down_count); }},
    {"dev_id", "device_id", false, nullptr},
    {"dormant", "dormant", false,
     [](const RtnlLink& l) -> std::optional<std::string> {
       if (!Running(l)) return std::nullopt;
       return (l.flags & IFF_DORMANT) != 0 ? "1" : "0";
     }},
    {"flags", "flags", false, nullptr},
    {"ifindex", "iface_id", false, [](const RtnlLink& l) { return Decimal(std::optional(l.index)); }},
    {"iflink", "iface_link", false,
     [](const RtnlLink& l) { return Decimal(std::optional(l.link.value_or(static_cast<std::uint32_t>(l.index)))); }},
    {"link_mode", "iface_link_mode", false, [](const RtnlLink& l) { return Decimal(l.link_mode); }},
    {"mtu", "mtu_bytes", false, [](const RtnlLink& l) { return Decimal(l.mtu); }},
    {"name_assign_type", "name_assign_type", false, nullptr},
    {"netdev_group", "net_dev_group", false, [](const RtnlLink& l) { return Decimal(l.group); }},
    {"tx_queue_len", "transmit_queue_length", false, [](const RtnlLink& l) { return Decimal(l.txqlen); }},
    {"type", "protocol_type", false, [](const RtnlLink& l) { return Decimal(std::optional(l.type)); }},
};
constexpr std::size_t kNumProps = std::size(kProperties);

// After the properties: the info labels and speed.
struct OtherAttribute {
  const char* file;
  FromDump from_dump;
};
constexpr OtherAttribute kOther[] = {
    {"operstate",
     [](const RtnlLink& l) -> std::optional<std::string> {
       // The kernel's operstates[] (net-sysfs.c), indexed by IF_OPER_*.
       static constexpr const char* kNames[] = {"unknown", "notpresent", "down", "lowerlayerdown",
                                                "testing", "dormant",    "up"};
       if (!l.operstate || *l.operstate >= std::size(kNames)) return std::nullopt;
       return kNames[*l.operstate];
     }},
    {"address", [](const RtnlLink& l) -> std::optional<std::string> { return l.address; }},
    {"broadcast", [](const RtnlLink& l) -> std::optional<std::string> { return l.broadcast; }},
    {"duplex", nullptr},
    {"ifalias", [](const RtnlLink& l) -> std::optional<std::string> { return l.alias; }},
    {"speed", nullptr},
};
enum Other : std::size_t { kOperstate = kNumProps, kAddress, kBroadcast, kDuplex, kIfalias, kSpeed, kNumAttrs };

FromDump DumpReader(std::size_t i) {
  return i < kNumProps ? kProperties[i].from_dump : kOther[i - kNumProps].from_dump;
}
const char* AttrName(std::size_t i) {
  return i < kNumProps ? kProperties[i].file : kOther[i - kNumProps].file;
}

// One device's attribute files kept open between scrapes and re-read with pread, one syscall
// each instead of three (open, read, close cost ~15 us per attribute on a busy VM, ~20
// attributes per device). The directory's inode tells a device recreated under the same name.
// With the rtnetlink dump, only the attributes it lacks are opened.
class DeviceFiles {
 public:
  DeviceFiles(const std::string& dir, ino_t ino, bool with_dump) : ino_(ino) {
    const UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    for (std::size_t i = 0; i < kNumAttrs; ++i) {
      const bool wanted = !(with_dump && DumpReader(i));
      if (dfd.ok() && wanted) fds_[i] = UniqueFd(::openat(dfd.get(), AttrName(i), O_RDONLY | O_CLOEXEC));
    }
  }

  ino_t ino() const { return ino_; }
  bool Has(std::size_t attr) const { return fds_[attr].ok(); }
  std::optional<std::string> Read(std::size_t attr) const { return PreadAttribute(fds_[attr].get()); }

 private:
  ino_t ino_;
  std::array<UniqueFd, kNumAttrs> fds_;
};

// Bounds the descriptors held: beyond this many devices (container hosts with hundreds of
// veths) the rest are read the plain way.
constexpr std::size_t kMaxCachedDevices = 8;

class NetclassCollector : public Collector {
 public:
  explicit NetclassCollector(const CollectorContext& ctx)
      : dir_(ctx.paths.Sys("class/net")),
        ignored_(ctx.Option("collector.netclass.ignored-devices"), "collector.netclass.ignored-devices") {
    ignore_invalid_speed_ = ctx.BoolOption("collector.netclass.ignore-invalid-speed");
    // A socket sees this process's network namespace; a --path.sysfs elsewhere (a host's /sys
    // mounted into a container) may describe another one, so it is read file by file.
    if (!ctx.BoolOption("collector.netclass.sysfs-only") && ctx.paths.sysfs == "/sys") {
      try {
        rtnl_ = std::make_unique<RtnlSocket>();
      } catch (const std::exception& e) {
        log::Warn("netclass: no rtnetlink, reading every attribute from sysfs", {{"error", e.what()}});
      }
    }
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<Listed> devices = List();

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
    const auto dump = Dump();
    Forget(devices);
    for (const auto& [dev, ino] : devices) {
      const std::string path = dir_ + "/" + dev;
      const RtnlLink* link = nullptr;
      if (dump) {
        // Not in the dump: gone since the listing (or new since, and in the next scrape).
        const auto in_dump = dump->find(dev);
        if (in_dump == dump->end()) continue;
        link = &in_dump->second;
      } else if (struct stat sb{}; ::stat(path.c_str(), &sb) != 0) {
        continue;  // went away since the listing
      }
      const DeviceFiles* cached = Cached(dev, path, ino);
      std::optional<SysDir> plain;
      auto read = [&](std::size_t attr) -> std::optional<std::string> {
        if (const FromDump from_dump = DumpReader(attr); link && from_dump) return from_dump(*link);
        if (cached && cached->Has(attr)) return cached->Read(attr);
        if (!plain) plain.emplace(path);
        return plain->Read(AttrName(attr));
      };

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
          speed.Add(static_cast<double>(*mbps) * 125000.0, labels);  // Mb/s to bytes/s
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
  struct Listed {
    std::string name;
    ino_t ino;  // of the entry: a device recreated under the same name has a new one
  };

  // The devices, sorted by name. readdir gives each entry's type and inode, so neither the
  // plain file among them (bonding_masters) nor a recreated device needs a stat of its own.
  std::vector<Listed> List() const {
    std::error_code ec;
    std::vector<DirEntry> entries = ListDirectory(dir_, ec);
    if (ec) throw NoDataError(dir_ + ": " + ec.message());
    std::vector<Listed> out;
    for (auto& e : entries) {
      if (e.type != DT_REG && !ignored_.Matches(e.name)) out.push_back({std::move(e.name), e.ino});
    }
    std::sort(out.begin(), out.end(), [](const Listed& a, const Listed& b) { return a.name < b.name; });
    return out;
  }

  // Drops devices that disappeared, closing their files.
  void Forget(const std::vector<Listed>& present) const {
    for (auto it = cache_.begin(); it != cache_.end();) {
      const bool there = std::binary_search(present.begin(), present.end(), it->first,
                                            [](const auto& a, const auto& b) { return Name(a) < Name(b); });
      it = there ? std::next(it) : cache_.erase(it);
    }
  }
  static const std::string& Name(const Listed& l) { return l.name; }
  static const std::string& Name(const std::string& s) { return s; }

  // The rtnetlink dump, or nullopt when it is off or failed this time (the files answer then).
  std::optional<std::map<std::string, RtnlLink>> Dump() const {
    if (!rtnl_) return std::nullopt;
    try {
      return rtnl_->DumpLinks();
    } catch (const std::exception& e) {
      log::Debug("netclass: rtnetlink dump failed, reading sysfs this time", {{"error", e.what()}});
      return std::nullopt;
    }
  }

  // The device's open files, (re)opened when it is new or was recreated; nullptr when the
  // cache is full.
  const DeviceFiles* Cached(const std::string& dev, const std::string& path, ino_t ino) const {
    auto it = cache_.find(dev);
    if (it != cache_.end() && it->second->ino() == ino) return it->second.get();
    if (it == cache_.end() && cache_.size() >= kMaxCachedDevices) return nullptr;
    auto files = std::make_unique<DeviceFiles>(path, ino, rtnl_ != nullptr);
    const DeviceFiles* p = files.get();
    cache_[dev] = std::move(files);
    return p;
  }

  std::string dir_;
  MatchCache ignored_;
  bool ignore_invalid_speed_ = false;
  std::unique_ptr<RtnlSocket> rtnl_;  // guarded by mu_ like the cache
  mutable std::mutex mu_;             // scrapes may overlap; the cache is shared
  mutable std::map<std::string, std::unique_ptr<DeviceFiles>> cache_;
};

const CollectorRegistrar kRegistrar({
    .name = "netclass",
    .enabled_by_default = true,
    .help = "Network device properties from /sys/class/net",
    .flags = {RegexFlag("collector.netclass.ignored-devices", "^$",
                        "Regexp of net devices to ignore for netclass collector"),
              BoolFlag("collector.netclass.ignore-invalid-speed", false,
                       "Leave out node_network_speed_bytes where the speed is invalid (-1)"),
              BoolFlag("collector.netclass.sysfs-only", false,
                       "Read every attribute from its sysfs file, not those rtnetlink also reports from one "
                       "RTM_GETLINK dump (the dump is used only with --path.sysfs=/sys). Same metrics either way"),
              BoolFlag("collector.netclass.netlink", false,
                       "node_exporter's switch to rtnetlink; no-op here: rtnetlink is used already (see sysfs-only)")},
    .make = [](const CollectorContext& ctx) { return std::make_unique<NetclassCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
