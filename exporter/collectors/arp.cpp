// node_arp_entries{device}: neighbour entries per interface, from /proc/net/arp.
#include <map>

#include "collector.h"
#include "kept_file.h"
#include "match_cache.h"
#include "metric_family.h"
#include "text_file.h"

namespace xw::exporter {
namespace {

class ArpCollector : public Collector {
 public:
  explicit ArpCollector(const CollectorContext& ctx) : file_(ctx.paths.Proc("net/arp")) {
    if (const auto& x = ctx.Option("collector.arp.device-exclude"); !x.empty()) {
      exclude_.emplace(x, "collector.arp.device-exclude");
    }
    if (const auto& i = ctx.Option("collector.arp.device-include"); !i.empty()) {
      include_.emplace(i, "collector.arp.device-include");
    }
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    const std::string text = file_.Read();
    std::map<std::string, double> entries;
    std::size_t line_no = 0;
    for (auto line : Lines(text)) {
      ++line_no;
      const auto f = Fields(line);
      if (f.empty()) continue;
      // "IP address  HW type  Flags  HW address  Mask  Device"
      if (f.size() < 6)
        throw ParseError(file_.path() + " line " + std::to_string(line_no) + ": unexpected ARP table format");
      if (f[0] == "IP") continue;
      entries[std::string(f.back())] += 1;
    }
    auto fam = Gauge("node_arp_entries", "ARP entries by device");
    for (const auto& [device, n] : entries) {
      if (exclude_ && exclude_->Matches(device)) continue;
      if (include_ && !include_->Matches(device)) continue;
      fam.Add(n, {{"device", device}});
    }
    std::vector<prometheus::MetricFamily> out;
    Emit(out, std::move(fam));
    return out;
  }

 private:
  mutable KeptFile file_;
  std::optional<MatchCache> exclude_, include_;
};

const CollectorRegistrar kRegistrar({
    .name = "arp",
    .enabled_by_default = true,
    .help = "ARP entries per device from /proc/net/arp",
    .flags = {RegexFlag("collector.arp.device-include", "",
                        "Regexp of arp devices to include (mutually exclusive to device-exclude)"),
              RegexFlag("collector.arp.device-exclude", "",
                        "Regexp of arp devices to exclude (mutually exclusive to device-include)")},
    .make = [](const CollectorContext& ctx) { return std::make_unique<ArpCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
