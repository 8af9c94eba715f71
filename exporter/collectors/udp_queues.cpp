// node_udp_queues{ip,queue}: bytes queued in UDP sockets, summed per address family.
// /proc/net/udp and udp6 walk the whole UDP hash table (16384 slots here) twice per file, once
// for the records and once more for the read that finds the end; a sock_diag dump walks it
// once per family and reports the same two numbers per socket (udp_rqueue_get and
// sk_wmem_alloc_get, as /proc/net/udp prints them), so the files are read only when the dump
// is not available or not wanted.
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "collector.h"
#include "kept_file.h"
#include "log.h"
#include "metric_family.h"
#include "procfs/netlink_socket.h"
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

Queues SumDump(NetlinkSocket& socket, unsigned char family) {
  struct {
    nlmsghdr h;
    inet_diag_req_v2 r;
  } req{};
  req.h.nlmsg_len = sizeof req;
  req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  req.r.sdiag_family = family;
  req.r.sdiag_protocol = IPPROTO_UDP;
  req.r.idiag_states = ~0U;  // bound, connected and closed: /proc/net/udp lists them all
  Queues q;
  socket.Dump(req.h, [&](const nlmsghdr& h) {
    if (h.nlmsg_type != SOCK_DIAG_BY_FAMILY) return;
    if (h.nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) throw std::runtime_error("sock_diag: short message");
    const auto* m = static_cast<const inet_diag_msg*>(NLMSG_DATA(&h));
    q.tx += m->idiag_wqueue;
    q.rx += m->idiag_rqueue;
  });
  return q;
}

class UdpQueuesCollector : public Collector {
 public:
  explicit UdpQueuesCollector(const CollectorContext& ctx)
      : v4_(ctx.paths.Proc("net/udp")), v6_(ctx.paths.Proc("net/udp6")) {
    // The socket sees this process's network namespace, which --path.procfs elsewhere may not.
    if (!ctx.BoolOption("collector.udp_queues.procfs-only") && ctx.paths.procfs == "/proc") {
      try {
        diag_ = std::make_unique<NetlinkSocket>(NETLINK_SOCK_DIAG, "sock_diag");
      } catch (const std::exception& e) {
        log::Warn("udp_queues: no sock_diag, reading /proc/net/udp", {{"error", e.what()}});
      }
    }
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    auto fam = Gauge("node_udp_queues", "Number of allocated memory in the kernel for UDP datagrams in bytes.");
    if (!FromDump(fam)) FromFiles(fam);
    std::vector<prometheus::MetricFamily> out;
    Emit(out, std::move(fam));
    return out;
  }

 private:
  static void Add(Family& fam, const Queues& q, const char* ip) {
    fam.Add(q.tx, {{"queue", "tx"}, {"ip", ip}});
    fam.Add(q.rx, {{"queue", "rx"}, {"ip", ip}});
  }

  bool FromDump(Family& fam) const {
    if (!diag_) return false;
    Queues v4, v6;
    try {
      std::lock_guard lock(mu_);
      v4 = SumDump(*diag_, AF_INET);
      v6 = SumDump(*diag_, AF_INET6);
    } catch (const std::exception& e) {
      log::Debug("udp_queues: sock_diag dump failed, reading /proc this time", {{"error", e.what()}});
      return false;
    }
    Add(fam, v4, "v4");
    Add(fam, v6, "v6");
    return true;
  }

  void FromFiles(Family& fam) const {
    const auto t4 = v4_.ReadIfExists();
    const auto t6 = v6_.ReadIfExists();
    if (!t4 && !t6) throw NoDataError("neither " + v4_.path() + " nor " + v6_.path() + " exists");
    if (t4) Add(fam, Sum(*t4, v4_.path()), "v4");
    if (t6) Add(fam, Sum(*t6, v6_.path()), "v6");
  }

  mutable KeptFile v4_;
  mutable KeptFile v6_;
  mutable std::mutex mu_;  // one dump at a time on the socket
  std::unique_ptr<NetlinkSocket> diag_;
};

const CollectorRegistrar kRegistrar({
    .name = "udp_queues",
    .enabled_by_default = true,
    .help = "UDP send and receive queue sizes from /proc/net/udp and udp6",
    .flags = {BoolFlag("collector.udp_queues.procfs-only", false,
                       "Read /proc/net/udp and udp6 instead of asking sock_diag for the same queue sizes (sock_diag "
                       "is used only with --path.procfs=/proc). Same metrics either way")},
    .make = [](const CollectorContext& ctx) { return std::make_unique<UdpQueuesCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
