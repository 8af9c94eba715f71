// ejabberd counters from mod_metrics: one UDP datagram per hook event,
// "<vhost>/<node>.<hook>:c/<unix time>:<n>". rate() of these is the seed's "messages per second".
//
// Point each node's mod_metrics at its own host's exporter: with IP-style node names the
// <node> part is "127" on every node, so which exporter receives a datagram is what tells
// the nodes apart. Datagrams that do not parse are counted, never fatal.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "collector.h"
#include "http_server.h"
#include "log.h"
#include "metric_family.h"
#include "text_file.h"
#include "unique_fd.h"
#include "web_config.h"

namespace xw::exporter {
namespace {

struct HookMetric {
  const char* hook;
  const char* name;
  const char* help;
};

constexpr HookMetric kHooks[] = {
    {"user_send_packet", "ejabberd_user_stanzas_sent_total", "Stanzas sent by local users (user_send_packet)."},
    {"user_receive_packet", "ejabberd_user_stanzas_received_total",
     "Stanzas delivered to local users (user_receive_packet)."},
    {"sm_register_connection", "ejabberd_c2s_logins_total", "Client sessions opened (sm_register_connection)."},
    {"sm_remove_connection", "ejabberd_c2s_logouts_total", "Client sessions closed (sm_remove_connection)."},
    {"offline_message", "ejabberd_offline_messages_stored_total", "Messages stored for offline users."},
    {"register_user", "ejabberd_registrations_total", "Accounts registered."},
    {"remove_user", "ejabberd_user_removals_total", "Accounts removed."},
    {"s2s_send_packet", "ejabberd_s2s_stanzas_sent_total", "Stanzas sent to other servers."},
    {"s2s_receive_packet", "ejabberd_s2s_stanzas_received_total", "Stanzas received from other servers."},
};

// A bound on distinct vhosts, so a stray sender cannot grow the label set without limit.
constexpr std::size_t kMaxVhosts = 64;

struct Datagram {
  std::string vhost, hook;
  double value = 0;
};

// Parses "<vhost>/<node>.<hook>:c/<ts>:<n>"; false when it does not fit.
bool ParseDatagram(std::string_view d, Datagram& out) {
  const auto slash = d.find('/');
  if (slash == std::string_view::npos || slash == 0) return false;
  out.vhost = std::string(d.substr(0, slash));
  std::string_view rest = d.substr(slash + 1);
  const auto dot = rest.find('.');
  const auto colon = rest.find(':');
  if (dot == std::string_view::npos || colon == std::string_view::npos || dot > colon) return false;
  out.hook = std::string(rest.substr(dot + 1, colon - dot - 1));
  rest = rest.substr(colon + 1);  // "c/<ts>:<n>"
  if (rest.size() < 2 || rest[0] != 'c' || rest[1] != '/') return false;
  const auto value_colon = rest.rfind(':');
  if (value_colon == std::string_view::npos || !ToUint64(rest.substr(2, value_colon - 2))) return false;
  const auto n = ToUint64(Trim(rest.substr(value_colon + 1)));
  if (!n || out.hook.empty()) return false;
  for (char c : out.vhost) {
    if (static_cast<unsigned char>(c) < 0x21 || c == '"' || c == '\\') return false;
  }
  out.value = static_cast<double>(*n);
  return true;
}

class EjabberdMetricsCollector : public Collector {
 public:
  explicit EjabberdMetricsCollector(const CollectorContext& ctx) {
    const ListenAddress addr = ParseListenAddress(ctx.Option("collector.ejabberd_metrics.listen-address"));
    SocketAddress sa;
    try {
      sa = ToSocketAddress(addr);
    } catch (const ConfigError& e) {
      throw ConfigError(std::string("--collector.ejabberd_metrics.listen-address: ") + e.what());
    }
    fd_ = UniqueFd(::socket(sa.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
    // Wake up regularly to notice shutdown without signals or a second descriptor.
    const timeval tv{0, 200 * 1000};
    if (!fd_.ok() || ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
        ::bind(fd_.get(), sa.get(), sa.length) != 0) {
      throw ConfigError("cannot listen for mod_metrics datagrams on udp " + addr.ToString() + ": " +
                        std::strerror(errno));
    }
    for (const auto& h : kHooks) hook_index_.emplace(h.hook, &h - kHooks);
    thread_ = std::thread([this] { Receive(); });
    log::Info("listening for ejabberd mod_metrics datagrams", {{"address", "udp " + addr.ToString()}});
  }

  ~EjabberdMetricsCollector() override {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<Family> families;
    for (const auto& h : kHooks) families.push_back(Counter(h.name, h.help));
    auto datagrams = Counter("ejabberd_metrics_datagrams_total", "mod_metrics datagrams received, by result.");
    std::vector<prometheus::MetricFamily> out;
    {
      std::lock_guard lock(mu_);
      for (const auto& [key, n] : counts_) families[key.first].Add(n, {{"vhost", key.second}});
      for (const auto& [result, n] : results_) datagrams.Add(n, {{"result", result}});
      Emit(out, Counter("ejabberd_metrics_datagrams_invalid_total", "mod_metrics datagrams that did not parse.")
                    .Add(results_.contains("invalid") ? results_.at("invalid") : 0));
    }
    for (auto& f : families) Emit(out, std::move(f));
    Emit(out, std::move(datagrams));
    return out;
  }

 private:
  void Receive() {
    char buf[1500];
    while (!stop_) {
      const ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
      if (n < 0) continue;  // timeout (checks stop_) or EINTR
      Datagram d;
      std::lock_guard lock(mu_);
      if (!ParseDatagram(std::string_view(buf, static_cast<std::size_t>(n)), d)) {
        results_["invalid"] += 1;
        continue;
      }
      const auto hook = hook_index_.find(d.hook);
      if (hook == hook_index_.end()) {
        results_["unknown_hook"] += 1;
        continue;
      }
      if (!vhosts_.contains(d.vhost) && vhosts_.size() >= kMaxVhosts) {
        results_["too_many_vhosts"] += 1;
        continue;
      }
      vhosts_.insert(d.vhost);
      counts_[{hook->second, d.vhost}] += d.value;
      results_["ok"] += 1;
    }
  }

  UniqueFd fd_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::map<std::string, std::size_t> hook_index_;
  mutable std::mutex mu_;
  std::map<std::pair<std::size_t, std::string>, double> counts_;
  std::map<std::string, double> results_;
  std::set<std::string> vhosts_;
};

const CollectorRegistrar kRegistrar({
    .name = "ejabberd_metrics",
    .enabled_by_default = false,
    .help = "ejabberd hook counters from mod_metrics UDP datagrams",
    .flags = {StringFlag("collector.ejabberd_metrics.listen-address", "127.0.0.1:11111",
                         "UDP address mod_metrics sends to (this host's address)")},
    .make = [](const CollectorContext& ctx) { return std::make_unique<EjabberdMetricsCollector>(ctx); },
});

}  // namespace

// For unit tests of the datagram grammar.
bool ParseEjabberdDatagramForTest(std::string_view d, std::string& vhost, std::string& hook, double& value) {
  Datagram out;
  if (!ParseDatagram(d, out)) return false;
  vhost = out.vhost;
  hook = out.hook;
  value = out.value;
  return true;
}

}  // namespace xw::exporter
