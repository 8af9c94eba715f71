// node_sockstat_* from /proc/net/sockstat and /proc/net/sockstat6: sockets per protocol and
// state, plus mem in bytes where the kernel reports pages.
#include <unistd.h>

#include "collector.h"
#include "kept_file.h"
#include "metric_family.h"
#include "text_file.h"

namespace xw::exporter {
namespace {

// The states node_exporter exports, in its order; any other key is a newer kernel's addition
// and is skipped, as procfs does.
constexpr std::string_view kStates[] = {"inuse", "orphan", "tw", "alloc", "mem", "memory"};

void Parse(const std::string& text, const std::string& path, bool ipv6, double page_size,
           std::vector<prometheus::MetricFamily>& out) {
  std::size_t line_no = 0;
  for (auto line : Lines(text)) {
    ++line_no;
    const auto f = Fields(line);
    if (f.empty()) continue;
    const FileLine where(path, line_no);
    if (!f[0].ends_with(':') || f.size() % 2 != 1) throw ParseError(where + ": expected 'PROTO: key value ...'");
    const std::string proto(f[0].substr(0, f[0].size() - 1));
    std::optional<double> values[std::size(kStates)];
    for (std::size_t i = 1; i < f.size(); i += 2) {
      const double v = static_cast<double>(Uint64OrThrow(f[i + 1], where));
      for (std::size_t s = 0; s < std::size(kStates); ++s) {
        if (f[i] == kStates[s]) values[s] = v;
      }
      if (proto == "sockets" && f[i] == "used" && !ipv6) {
        Emit(out, Gauge("node_sockstat_sockets_used", "Number of IPv4 sockets in use.").Add(v));
      }
    }
    if (proto == "sockets") continue;
    auto emit = [&](std::string_view state, double v) {
      const std::string s(state);
      Emit(out,
           Gauge("node_sockstat_" + proto + "_" + s, "Number of " + proto + " sockets in state " + s + ".").Add(v));
    };
    for (std::size_t s = 0; s < std::size(kStates); ++s) {
      if (values[s]) emit(kStates[s], *values[s]);
    }
    if (values[4]) emit("mem_bytes", *values[4] * page_size);
  }
}

class SockstatCollector : public Collector {
 public:
  explicit SockstatCollector(const CollectorContext& ctx)
      : v4_(ctx.paths.Proc("net/sockstat"), KeptFile::Printed::kInOnePiece),
        v6_(ctx.paths.Proc("net/sockstat6"), KeptFile::Printed::kInOnePiece),
        page_size_(static_cast<double>(sysconf(_SC_PAGESIZE))) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    // Either file is absent when its address family is compiled out: skipped, as node_exporter does.
    if (auto text = v4_.ReadIfExists()) Parse(*text, v4_.path(), false, page_size_, out);
    if (auto text = v6_.ReadIfExists()) Parse(*text, v6_.path(), true, page_size_, out);
    return out;
  }

 private:
  mutable KeptFile v4_;
  mutable KeptFile v6_;
  double page_size_;
};

const CollectorRegistrar kRegistrar({
    .name = "sockstat",
    .enabled_by_default = true,
    .help = "Socket statistics from /proc/net/sockstat and sockstat6",
    .flags = {},
    .make = [](const CollectorContext& ctx) { return std::make_unique<SockstatCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
