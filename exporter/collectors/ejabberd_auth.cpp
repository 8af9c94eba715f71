// ejabberd_auth_failures_total{vhost}: failed client logins, counted from the node's log.
// mod_metrics has no hook for failed authentication; ejabberd logs each one at warning level:
//   "... Failed c2s SCRAM-SHA-256 authentication for alice@xmpp.test from 127.0.0.1: ..."
// A rising rate is what a brute-force attempt (and mod_fail2ban's work) looks like.
//
// The log is read incrementally at each scrape from where the last one stopped, starting at
// its end when the exporter starts; rotation (a new inode or a shorter file) starts over at 0.
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <mutex>

#include "collector.h"
#include "log.h"
#include "metric_family.h"
#include "web_config.h"

namespace xw::exporter {
namespace {

constexpr std::string_view kMarker = "Failed c2s ";
// Read at most this much per scrape, so a log flood cannot stall a scrape; the rest is read
// on the next one.
constexpr std::size_t kMaxReadPerScrape = 8u << 20;
constexpr std::size_t kMaxVhosts = 64;

class EjabberdAuthCollector : public Collector {
 public:
  explicit EjabberdAuthCollector(const CollectorContext& ctx) : path_(ctx.Option("collector.ejabberd_auth.log-file")) {
    if (path_.empty())
      throw ConfigError("--collector.ejabberd_auth.log-file is required with --collector.ejabberd_auth");
    struct stat st {};
    if (::stat(path_.c_str(), &st) == 0) {
      inode_ = st.st_ino;
      offset_ = static_cast<std::size_t>(st.st_size);
    }
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::lock_guard lock(mu_);
    ReadNew();
    auto failures = Counter("ejabberd_auth_failures_total", "Failed client authentications in the node's log.");
    for (const auto& [vhost, n] : failures_) failures.Add(n, {{"vhost", vhost}});
    std::vector<prometheus::MetricFamily> out;
    Emit(out, std::move(failures));
    return out;
  }

 private:
  void ReadNew() const {
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) return;  // not there yet (node not started): nothing new
    if (st.st_ino != inode_ || static_cast<std::size_t>(st.st_size) < offset_) {
      inode_ = st.st_ino;
      offset_ = 0;
      partial_.clear();
    }
    const std::size_t size = static_cast<std::size_t>(st.st_size);
    if (size == offset_) return;
    std::ifstream in(path_, std::ios::binary);
    if (!in) throw std::runtime_error(path_ + ": cannot open");
    in.seekg(static_cast<std::streamoff>(offset_));
    std::string chunk(std::min(size - offset_, kMaxReadPerScrape), '\0');
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    chunk.resize(static_cast<std::size_t>(in.gcount()));
    offset_ += chunk.size();
    // A line may be cut at the end of what was written so far: keep the tail for next time.
    std::string text = std::move(partial_) + chunk;
    const auto last_nl = text.rfind('\n');
    if (last_nl == std::string::npos) {
      partial_ = std::move(text);
      return;
    }
    partial_ = text.substr(last_nl + 1);
    std::string_view done(text.data(), last_nl);
    std::size_t pos = 0;
    while ((pos = done.find(kMarker, pos)) != std::string_view::npos) {
      const auto line_end = done.find('\n', pos);
      const std::string_view line = done.substr(pos, line_end == std::string_view::npos ? done.npos : line_end - pos);
      pos += kMarker.size();
      const auto for_pos = line.find(" authentication for ");
      if (for_pos == std::string_view::npos) continue;
      const auto user_start = for_pos + std::string_view(" authentication for ").size();
      const auto user_end = line.find(' ', user_start);
      const std::string_view jid = line.substr(user_start, user_end - user_start);
      const auto at = jid.rfind('@');
      std::string vhost(at == std::string_view::npos ? std::string_view("unknown") : jid.substr(at + 1));
      if (!failures_.contains(vhost) && failures_.size() >= kMaxVhosts) vhost = "other";
      failures_[vhost] += 1;
    }
  }

  std::string path_;
  mutable std::mutex mu_;
  mutable ino_t inode_ = 0;
  mutable std::size_t offset_ = 0;
  mutable std::string partial_;
  mutable std::map<std::string, double> failures_;
};

const CollectorRegistrar kRegistrar({
    .name = "ejabberd_auth",
    .enabled_by_default = false,
    .help = "Failed ejabberd client authentications, from the node's log",
    .flags = {StringFlag("collector.ejabberd_auth.log-file", "",
                         "The node's ejabberd.log (loglevel warning or more verbose)")},
    .make = [](const CollectorContext& ctx) { return std::make_unique<EjabberdAuthCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
