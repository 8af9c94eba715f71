// node_network_{receive,transmit}_*_total from /proc/net/dev (and rx_nohandler from sysfs,
// which node_exporter reads over netlink and /proc/net/dev does not print).
#include <map>
#include <memory>
#include <mutex>

#include "collector.h"
#include "kept_file.h"
#include "match_cache.h"
#include "metric_family.h"
#include "text_file.h"
#include "web_config.h"

namespace xw::exporter {
namespace {

constexpr const char* kColumns[] = {"receive_bytes",  "receive_packets",  "receive_errs",       "receive_drop",
                                    "receive_fifo",   "receive_frame",    "receive_compressed", "receive_multicast",
                                    "transmit_bytes", "transmit_packets", "transmit_errs",      "transmit_drop",
                                    "transmit_fifo",  "transmit_colls",   "transmit_carrier",   "transmit_compressed"};
constexpr std::size_t kNumColumns = std::size(kColumns);

class NetdevCollector : public Collector {
 public:
  explicit NetdevCollector(const CollectorContext& ctx)
      : file_(ctx.paths.Proc("net/dev")), sys_net_(ctx.paths.Sys("class/net")) {
    const std::string& exclude = ctx.Option("collector.netdev.device-exclude");
    const std::string& include = ctx.Option("collector.netdev.device-include");
    // An include list replaces the exclude list, whose default (^lo$) is always set.
    if (!exclude.empty() && include.empty()) exclude_.emplace(exclude, "collector.netdev.device-exclude");
    if (!include.empty()) include_.emplace(include, "collector.netdev.device-include");
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    const std::string text = file_.Read();
    std::vector<Family> families;
    for (const char* c : kColumns) {
      families.push_back(
          Counter(std::string("node_network_") + c + "_total", std::string("Network device statistic ") + c + "."));
    }
    auto nohandler = Counter("node_network_receive_nohandler_total", "Network device statistic receive_nohandler.");
    // Each device's rx_nohandler stays open while the device exists; gone devices drop out.
    std::lock_guard lock(nohandler_mu_);
    std::map<std::string, std::unique_ptr<KeptFile>> nohandler_files;
    std::size_t line_no = 0;
    for (std::string_view line : Lines(text)) {
      ++line_no;
      const auto colon = line.find(':');
      if (line_no <= 2) continue;  // two header lines
      const FileLine where(file_.path(), line_no);
      if (colon == std::string_view::npos) {
        if (Trim(line).empty()) continue;
        throw ParseError(where + ": no ':' after the device name");
      }
      const std::string device(Trim(line.substr(0, colon)));
      const auto f = Fields(line.substr(colon + 1));
      if (f.size() != kNumColumns) {
        throw ParseError(where + ": expected " + std::to_string(kNumColumns) + " counters, got " +
                         std::to_string(f.size()));
      }
      if (exclude_ && exclude_->Matches(device)) continue;
      if (include_ && !include_->Matches(device)) continue;
      const Labels labels{{"device", device}};
      for (std::size_t i = 0; i < kNumColumns; ++i) {
        families[i].Add(static_cast<double>(Uint64OrThrow(f[i], where)), labels);
      }
      auto& kept = nohandler_files[device];
      if (auto it = nohandler_files_.find(device); it != nohandler_files_.end()) kept = std::move(it->second);
      if (!kept) kept = std::make_unique<KeptFile>(sys_net_ + "/" + device + "/statistics/rx_nohandler");
      if (auto v = kept->ReadIfExists()) {
        if (auto n = ToUint64(Trim(*v))) nohandler.Add(static_cast<double>(*n), labels);
      }
    }
    nohandler_files_ = std::move(nohandler_files);
    std::vector<prometheus::MetricFamily> out;
    for (auto& f : families) Emit(out, std::move(f));
    Emit(out, std::move(nohandler));
    return out;
  }

 private:
  mutable KeptFile file_;
  std::string sys_net_;
  std::optional<MatchCache> exclude_;
  std::optional<MatchCache> include_;
  mutable std::mutex nohandler_mu_;
  mutable std::map<std::string, std::unique_ptr<KeptFile>> nohandler_files_;
};

const CollectorRegistrar kRegistrar({
    .name = "netdev",
    .enabled_by_default = true,
    .help = "Network device statistics from /proc/net/dev",
    .flags = {RegexFlag("collector.netdev.device-exclude", "^lo$",
                        "Regexp of net devices to exclude (Debian's default)", {"collector.netdev.device-blacklist"}),
              RegexFlag("collector.netdev.device-include", "",
                        "Regexp of net devices to include (replaces the exclude list)",
                        {"collector.netdev.device-whitelist"}),
              BoolFlag("collector.netdev.netlink", false,
                       "node_exporter's switch to rtnetlink statistics; no-op here: /proc/net/dev gives the same "
                       "counters"),
              BoolFlag("collector.netdev.address-info", false,
                       "node_network_address_info; not implemented: accepted, warned about and ignored"),
              BoolFlag("collector.netdev.enable-detailed-metrics", false,
                       "node_exporter's detailed netdev names; not implemented: accepted, warned about and ignored")},
    .make = [](const CollectorContext& ctx) { return std::make_unique<NetdevCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
