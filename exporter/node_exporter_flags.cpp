#include "node_exporter_flags.h"

#include "collector.h"

namespace xw::exporter {
namespace {

// Collectors of node_exporter 1.5 (Debian bookworm's build) that this exporter does not have.
constexpr const char* kCollectors[] = {
    "bcache",     "bonding",       "btrfs",      "buddyinfo", "cgroups",     "dmi",    "drbd",    "drm",
    "ethtool",    "fibrechannel",  "infiniband", "ipvs",      "ksmd",        "lnstat", "logind",  "meminfo_numa",
    "mountstats", "network_route", "nfs",        "nfsd",      "ntp",         "nvme",   "perf",    "powersupplyclass",
    "qdisc",      "rapl",          "runit",      "slabinfo",  "supervisord", "sysctl", "systemd", "tapestats",
    "tcpstat",    "wifi",          "xfs",        "zfs",       "zoneinfo"};

struct Option {
  const char* name;
  bool is_bool;
};

// Their options, as `prometheus-node-exporter --help` lists them, and the hidden deprecated
// spellings node_exporter still accepts.
constexpr Option kOptions[] = {
    {"collector.bcache.priorityStats", true},
    {"collector.ethtool.device-include", false},
    {"collector.ethtool.device-exclude", false},
    {"collector.ethtool.metrics-include", false},
    {"collector.ipvs.backend-labels", false},
    {"collector.netclass_rtnl.with-stats", true},
    {"collector.ntp.server", false},
    {"collector.ntp.server-port", false},
    {"collector.ntp.protocol-version", false},
    {"collector.ntp.server-is-local", true},
    {"collector.ntp.ip-ttl", false},
    {"collector.ntp.max-distance", false},
    {"collector.ntp.local-offset-tolerance", false},
    {"collector.perf.cpus", false},
    {"collector.perf.tracepoint", false},
    {"collector.powersupply.ignored-supplies", false},
    {"collector.qdisc.fixtures", false},
    {"collector.qdisk.device-include", false},
    {"collector.qdisk.device-exclude", false},
    {"collector.rapl.enable-zone-label", true},
    {"collector.runit.servicedir", false},
    {"collector.supervisord.url", false},
    {"collector.sysctl.include", false},
    {"collector.sysctl.include-info", false},
    {"collector.systemd.unit-include", false},
    {"collector.systemd.unit-exclude", false},
    {"collector.systemd.unit-whitelist", false},
    {"collector.systemd.unit-blacklist", false},
    {"collector.systemd.private", true},
    {"collector.systemd.enable-task-metrics", true},
    {"collector.systemd.enable-restarts-metrics", true},
    {"collector.systemd.enable-start-time-metrics", true},
    {"collector.tapestats.ignored-devices", false},
    {"collector.wifi.fixtures", false},
};

constexpr const char* kGroup = "node_exporter flags without effect here (warned about when given)";

}  // namespace

ForeignFlags::ForeignFlags(CLI::App& app) {
  for (const char* c : kCollectors) {
    const std::string name(c);
    if (CollectorCatalog::Instance().Find(name) != nullptr) continue;
    bools_.push_back(std::make_unique<bool>(false));
    auto* opt = app.add_flag("--collector." + name + ",!--no-collector." + name, *bools_.back(),
                             "node_exporter's " + name + " collector; not implemented here")
                    ->group(kGroup);
    flags_.push_back({name, true, opt, bools_.back().get()});
  }
  for (const auto& o : kOptions) {
    const std::string flag = std::string("--") + o.name;
    CLI::Option* opt = nullptr;
    if (o.is_bool) {
      bools_.push_back(std::make_unique<bool>(false));
      opt = app.add_flag(flag + ",!--no-" + o.name, *bools_.back(), "no effect here");
    } else {
      // Several are repeatable in node_exporter (perf.tracepoint, sysctl.include).
      strings_.push_back(std::make_unique<std::vector<std::string>>());
      opt = app.add_option(flag, *strings_.back(), "no effect here")->allow_extra_args(false);
    }
    opt->group(kGroup);
    flags_.push_back({o.name, false, opt});
  }
}

std::vector<std::string> ForeignFlags::Warnings() const {
  std::vector<std::string> out;
  for (const auto& f : flags_) {
    if (f.option->count() == 0 || (f.is_switch && !*f.on)) continue;
    out.push_back(f.is_switch ? "collector " + f.name + " is not implemented by xmppwatch_exporter; flag ignored"
                              : "--" + f.name + " belongs to a collector xmppwatch_exporter does not have; ignored");
  }
  return out;
}

}  // namespace xw::exporter
