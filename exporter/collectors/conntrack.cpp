// node_nf_conntrack_*: table usage from /proc/sys/net/netfilter and per-CPU statistics from
// /proc/net/stat/nf_conntrack summed over CPUs. Without the conntrack module there is nothing
// to report: no data, as node_exporter says, not a failure.
#include <map>

#include "collector.h"
#include "kept_file.h"
#include "metric_family.h"
#include "procfs/sys_value.h"
#include "text_file.h"

namespace xw::exporter {
namespace {

struct StatField {
  const char* column;  // header name in /proc/net/stat/nf_conntrack
  const char* metric;
  const char* help;
};

constexpr StatField kStats[] = {
    {"found", "found", "Number of searched entries which were successful."},
    {"invalid", "invalid", "Number of packets seen which can not be tracked."},
    {"ignore", "ignore", "Number of packets seen which are already connected to a conntrack entry."},
    {"insert", "insert", "Number of entries inserted into the list."},
    {"insert_failed", "insert_failed", "Number of entries for which list insertion was attempted but failed."},
    {"drop", "drop", "Number of packets dropped due to conntrack failure."},
    {"early_drop", "early_drop",
     "Number of dropped conntrack entries to make room for new ones, if maximum table size was reached."},
    {"search_restart", "search_restart",
     "Number of conntrack table lookups which had to be restarted due to hashtable resizes."},
};

// Columns are named by the header, so kernels that add or rename columns still parse.
std::map<std::string, double> SumStats(const std::string& text, const std::string& path) {
  const auto lines = Lines(text);
  if (lines.empty()) throw ParseError(path + ": empty");
  const auto header = Fields(lines[0]);
  std::vector<double> sums(header.size(), 0);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const auto f = Fields(lines[i]);
    if (f.empty()) continue;
    const FileLine where(path, i + 1);
    if (f.size() != header.size()) {
      throw ParseError(where + ": " + std::to_string(f.size()) + " columns, header has " +
                       std::to_string(header.size()));
    }
    for (std::size_t c = 0; c < f.size(); ++c) {
      const auto v = ParseHex(f[c]);
      if (!v) throw ParseError(where + ": '" + std::string(f[c]) + "' is not hex");
      sums[c] += static_cast<double>(*v);
    }
  }
  std::map<std::string, double> out;
  for (std::size_t c = 0; c < header.size(); ++c) out[std::string(header[c])] = sums[c];
  return out;
}

class ConntrackCollector : public Collector {
 public:
  explicit ConntrackCollector(const CollectorContext& ctx)
      : count_(ctx.paths.Proc("sys/net/netfilter/nf_conntrack_count"), KeptFile::Printed::kInOnePiece),
        max_(ctx.paths.Proc("sys/net/netfilter/nf_conntrack_max"), KeptFile::Printed::kInOnePiece),
        stat_(ctx.paths.Proc("net/stat/nf_conntrack")) {}

  std::string NoSource() const override {
    return Missing(count_.path()).empty() ? std::string() : NotLoaded(count_.path());
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    const auto count = ReadNumberIfExists(count_);
    if (!count) throw NoDataError(NotLoaded(count_.path()));
    const auto max = ReadNumberIfExists(max_);
    if (!max) throw NoDataError(NotLoaded(max_.path()));
    std::vector<prometheus::MetricFamily> out;
    Emit(out, Gauge("node_nf_conntrack_entries", "Number of currently allocated flow entries for connection tracking.")
                  .Add(*count));
    Emit(out, Gauge("node_nf_conntrack_entries_limit", "Maximum size of connection tracking table.").Add(*max));
    if (const auto text = stat_.ReadIfExists()) {
      const auto sums = SumStats(*text, stat_.path());
      for (const auto& s : kStats) {
        const auto it = sums.find(s.column);
        if (it == sums.end()) continue;
        Emit(out, Gauge(std::string("node_nf_conntrack_stat_") + s.metric, s.help).Add(it->second));
      }
    }
    return out;
  }

 private:
  static std::string NotLoaded(const std::string& path) {
    return DoesNotExist(path) + ": conntrack probably not loaded";
  }

  mutable KeptFile count_, max_;
  mutable KeptFile stat_;
};

const CollectorRegistrar kRegistrar({
    .name = "conntrack",
    .enabled_by_default = true,
    .help = "Connection tracking table usage and statistics",
    .flags = {},
    .make = [](const CollectorContext& ctx) { return std::make_unique<ConntrackCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
