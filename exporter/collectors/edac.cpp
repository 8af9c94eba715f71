// node_edac_*: memory controller error counts from /sys/devices/system/edac/mc. Hosts
// without EDAC (VMs) have no controllers: nothing to report, and that is a success.
#include <algorithm>
#include <filesystem>

#include "collector.h"
#include "metric_family.h"
#include "procfs/sys_value.h"
#include "text_file.h"

namespace xw::exporter {
namespace {

// Numbered entries prefix<N> of dir, in numeric order.
std::vector<std::pair<std::uint64_t, std::string>> Numbered(const std::string& dir, std::string_view prefix) {
  std::vector<std::pair<std::uint64_t, std::string>> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!name.starts_with(prefix)) continue;
    if (const auto n = ToUint64(std::string_view(name).substr(prefix.size()))) out.emplace_back(*n, e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class EdacCollector : public Collector {
 public:
  explicit EdacCollector(const CollectorContext& ctx) : dir_(ctx.paths.Sys("devices/system/edac/mc")) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    auto ce = Counter("node_edac_correctable_errors_total", "Total correctable memory errors.");
    auto ue = Counter("node_edac_uncorrectable_errors_total", "Total uncorrectable memory errors.");
    auto row_ce =
        Counter("node_edac_csrow_correctable_errors_total", "Total correctable memory errors for this csrow.");
    auto row_ue =
        Counter("node_edac_csrow_uncorrectable_errors_total", "Total uncorrectable memory errors for this csrow.");
    for (const auto& [n, mc] : Numbered(dir_, "mc")) {
      const std::string controller = std::to_string(n);
      ce.Add(ReadNumber(mc + "/ce_count"), {{"controller", controller}});
      row_ce.Add(ReadNumber(mc + "/ce_noinfo_count"), {{"controller", controller}, {"csrow", "unknown"}});
      ue.Add(ReadNumber(mc + "/ue_count"), {{"controller", controller}});
      row_ue.Add(ReadNumber(mc + "/ue_noinfo_count"), {{"controller", controller}, {"csrow", "unknown"}});
      for (const auto& [r, row] : Numbered(mc, "csrow")) {
        const Labels labels{{"controller", controller}, {"csrow", std::to_string(r)}};
        row_ce.Add(ReadNumber(row + "/ce_count"), labels);
        row_ue.Add(ReadNumber(row + "/ue_count"), labels);
      }
    }
    std::vector<prometheus::MetricFamily> out;
    Emit(out, std::move(ce));
    Emit(out, std::move(row_ce));
    Emit(out, std::move(row_ue));
    Emit(out, std::move(ue));
    return out;
  }

 private:
  std::string dir_;
};

const CollectorRegistrar kRegistrar({
    .name = "edac",
    .enabled_by_default = true,
    .help = "Memory controller (EDAC) error counts",
    .flags = {},
    .make = [](const CollectorContext& ctx) { return std::make_unique<EdacCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
