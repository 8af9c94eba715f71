// node_selinux_*: whether SELinux is on and in which mode. Without selinuxfs only
// node_selinux_enabled 0 is reported, as node_exporter does.
#include "collector.h"
#include "metric_family.h"
#include "procfs/sys_value.h"
#include "text_file.h"

namespace xw::exporter {
namespace {

class SelinuxCollector : public Collector {
 public:
  explicit SelinuxCollector(const CollectorContext& ctx)
      : enforce_(ctx.paths.Sys("fs/selinux/enforce")), config_(ctx.paths.Root("/etc/selinux/config")) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    const auto enforce = ReadNumberIfExists(enforce_);
    Emit(out, Gauge("node_selinux_enabled", "SELinux is enabled, 1 is true, 0 is false").Add(enforce ? 1 : 0));
    if (!enforce) return out;
    Emit(out, Gauge("node_selinux_config_mode", "Configured SELinux enforcement mode").Add(ConfigMode()));
    Emit(out, Gauge("node_selinux_current_mode", "Current SELinux enforcement mode").Add(*enforce));
    return out;
  }

 private:
  // SELINUX= in /etc/selinux/config: enforcing 1, permissive 0, disabled (or unset) -1, the
  // numbers go-selinux reports.
  double ConfigMode() const {
    const auto text = ReadFileIfExists(config_, 64 * 1024);
    if (!text) return -1;
    for (auto line : Lines(*text)) {
      line = Trim(line);
      if (!line.starts_with("SELINUX=")) continue;
      const auto v = Trim(line.substr(8));
      if (v == "enforcing") return 1;
      if (v == "permissive") return 0;
      return -1;
    }
    return -1;
  }

  std::string enforce_, config_;
};

const CollectorRegistrar kRegistrar({
    .name = "selinux",
    .enabled_by_default = true,
    .help = "SELinux status from selinuxfs",
    .flags = {},
    .make = [](const CollectorContext& ctx) { return std::make_unique<SelinuxCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
