// node_udp_queues{ip,queue}: bytes queued in UDP sockets, summed over /proc/net/udp and udp6.
#include "collector.h"
#include "kept_file.h"
#include "metric_family.h"
#include "procfs/sys_value.h"
#include "text_file.h"

namespace xw::exporter {
namespace {

struct Queues {
  double tx = 0, rx = 0;
};

Queues Sum(const std::string& text, const std::string& path) {
  Queues q;
  std::size_t line_no = 0;
  for (auto line : Lines(text)) {
    if (++line_no == 1) continue;  // header
    const auto f = Fields(line);
    if (f.empty()) continue;
    const FileLine where(path, line_no);
    // "sl local rem st tx_queue:rx_queue ..."
    if (f.size() < 10) throw ParseError(where + ": too few columns");
    const auto colon = f[4].find(':');
    const auto tx = colon == std::string_view::npos ? std::nullopt : ParseHex(f[4].substr(0, colon));
    const auto rx = colon == std::string_view::npos ? std::nullopt : ParseHex(f[4].substr(colon + 1));
    if (!tx || !rx) throw ParseError(where + ": bad tx_queue:rx_queue '" + std::string(f[4]) + "'");
    q.tx += static_cast<double>(*tx);
    q.rx += static_cast<double>(*rx);
  }
  return q;
}

class UdpQueuesCollector : public Collector {
 public:
  explicit UdpQueuesCollector(const CollectorContext& ctx)
      : v4_(ctx.paths.Proc("net/udp")), v6_(ctx.paths.Proc("net/udp6")) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    auto fam = Gauge("node_udp_queues", "Number of allocated memory in the kernel for UDP datagrams in bytes.");
    const auto t4 = v4_.ReadIfExists();
    const auto t6 = v6_.ReadIfExists();
    if (!t4 && !t6) throw NoDataError("neither " + v4_.path() + " nor " + v6_.path() + " exists");
    for (const auto& [text, path, ip] : {std::tuple{&t4, &v4_.path(), "v4"}, std::tuple{&t6, &v6_.path(), "v6"}}) {
      if (!*text) continue;
      const Queues q = Sum(**text, *path);
      fam.Add(q.tx, {{"queue", "tx"}, {"ip", ip}});
      fam.Add(q.rx, {{"queue", "rx"}, {"ip", ip}});
    }
    std::vector<prometheus::MetricFamily> out;
    Emit(out, std::move(fam));
    return out;
  }

 private:
  mutable KeptFile v4_;
  mutable KeptFile v6_;
};

const CollectorRegistrar kRegistrar({
    .name = "udp_queues",
    .enabled_by_default = true,
    .help = "UDP send and receive queue sizes from /proc/net/udp and udp6",
    .flags = {},
    .make = [](const CollectorContext& ctx) { return std::make_unique<UdpQueuesCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
