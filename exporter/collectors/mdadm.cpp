// node_md_*: software RAID state from /proc/mdstat, as node_exporter (via procfs) reads it.
// Without md loaded the file is absent: no data, not a failure.
#include "collector.h"
#include "kept_file.h"
#include "metric_family.h"
#include "text_file.h"

namespace xw::exporter {
namespace {

struct MdDevice {
  std::string name, state;
  double active = 0, failed = 0, spare = 0, total = 0, blocks = 0, synced = 0;
};

std::size_t Count(std::string_view s, std::string_view what) {
  std::size_t n = 0;
  for (auto pos = s.find(what); pos != std::string_view::npos; pos = s.find(what, pos + what.size())) ++n;
  return n;
}

// "[2/1]" in "1048512 blocks super 1.2 [2/1] [U_]": (total, active).
std::optional<std::pair<double, double>> DiskCounts(std::string_view status) {
  for (auto open = status.find('['); open != std::string_view::npos; open = status.find('[', open + 1)) {
    const auto close = status.find(']', open);
    const auto slash = status.find('/', open);
    if (close == std::string_view::npos || slash == std::string_view::npos || slash > close) continue;
    const auto total = ToUint64(status.substr(open + 1, slash - open - 1));
    const auto active = ToUint64(status.substr(slash + 1, close - slash - 1));
    if (total && active) return std::pair{static_cast<double>(*total), static_cast<double>(*active)};
  }
  return std::nullopt;
}

std::vector<MdDevice> ParseMdstat(const std::string& text, const std::string& path) {
  const auto lines = Lines(text);
  std::vector<MdDevice> out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto line = lines[i];
    if (Trim(line).empty() || line[0] == ' ' || line.starts_with("Personalities") || line.starts_with("unused"))
      continue;
    const FileLine where(path, i + 1);
    const auto f = Fields(line);
    // "md0 : active raid1 sdb1[1] sda1[0](F)"
    if (f.size() < 3 || f[1] != ":") throw ParseError(where + ": expected 'mdN : state ...'");
    if (i + 1 >= lines.size()) throw ParseError(where + ": device line without its status line");
    MdDevice d;
    d.name = std::string(f[0]);
    d.state = std::string(f[2]);
    d.failed = static_cast<double>(Count(line, "(F)"));
    d.spare = static_cast<double>(Count(line, "(S)"));
    const auto status = lines[i + 1];
    const auto sf = Fields(status);
    const auto size = sf.empty() ? std::nullopt : ToUint64(sf[0]);
    if (!size) throw ParseError(path + " line " + std::to_string(i + 2) + ": no block count");
    d.blocks = d.synced = static_cast<double>(*size);
    if (line.find("raid0") != std::string_view::npos || line.find("linear") != std::string_view::npos) {
      d.total = d.active = static_cast<double>(Count(line, "["));  // only member disks carry [n]
    } else if (line.find("inactive") == std::string_view::npos) {
      const auto counts = DiskCounts(status);
      if (!counts) throw ParseError(path + " line " + std::to_string(i + 2) + ": no [total/active] disk counts");
      d.total = counts->first;
      d.active = counts->second;
    }
    // The progress line follows, after an optional bitmap line.
    std::size_t sync = i + 2;
    if (sync < lines.size() && lines[sync].find("bitmap") != std::string_view::npos) ++sync;
    const std::string_view progress = sync < lines.size() ? lines[sync] : std::string_view{};
    const bool recovering = progress.find("recovery") != std::string_view::npos;
    const bool resyncing = progress.find("resync") != std::string_view::npos;
    const bool checking = progress.find("check") != std::string_view::npos;
    if (recovering || resyncing || checking) {
      d.state = recovering ? "recovering" : checking ? "checking" : "resyncing";
      if (progress.find("PENDING") != std::string_view::npos || progress.find("DELAYED") != std::string_view::npos) {
        d.synced = 0;
      } else {
        // "[==>......]  recovery = 12.6% (37043392/293039104) finish=..."
        const auto open = progress.find('(');
        const auto slash = progress.find('/', open);
        const auto done = (open == std::string_view::npos || slash == std::string_view::npos)
                              ? std::nullopt
                              : ToUint64(progress.substr(open + 1, slash - open - 1));
        if (!done) throw ParseError(path + " line " + std::to_string(sync + 1) + ": unexpected progress line");
        d.synced = static_cast<double>(*done);
      }
    }
    out.push_back(std::move(d));
  }
  return out;
}

class MdadmCollector : public Collector {
 public:
  explicit MdadmCollector(const CollectorContext& ctx) : file_(ctx.paths.Proc("mdstat")) {}

  std::string NoSource() const override { return Missing(file_.path()); }

  std::vector<prometheus::MetricFamily> Collect() const override {
    const auto text = file_.ReadIfExists();
    if (!text) throw NoDataError(DoesNotExist(file_.path()));
    auto required = Gauge("node_md_disks_required", "Total number of disks of device.");
    auto disks = Gauge("node_md_disks", "Number of active/failed/spare disks of device.");
    auto state = Gauge("node_md_state", "Indicates the state of md-device.");
    auto blocks = Gauge("node_md_blocks", "Total number of blocks on device.");
    auto synced = Gauge("node_md_blocks_synced", "Number of blocks synced on device.");
    for (const auto& d : ParseMdstat(*text, file_.path())) {
      const Labels dev{{"device", d.name}};
      required.Add(d.total, dev);
      disks.Add(d.active, {{"device", d.name}, {"state", "active"}});
      disks.Add(d.failed, {{"device", d.name}, {"state", "failed"}});
      disks.Add(d.spare, {{"device", d.name}, {"state", "spare"}});
      // procfs' activity states, under node_exporter's label values.
      for (const auto& [label, s] :
           {std::pair{"active", "active"}, std::pair{"inactive", "inactive"}, std::pair{"recovering", "recovering"},
            std::pair{"resync", "resyncing"}, std::pair{"check", "checking"}}) {
        state.Add(d.state == s ? 1 : 0, {{"device", d.name}, {"state", label}});
      }
      blocks.Add(d.blocks, dev);
      synced.Add(d.synced, dev);
    }
    std::vector<prometheus::MetricFamily> out;
    Emit(out, std::move(blocks));
    Emit(out, std::move(synced));
    Emit(out, std::move(disks));
    Emit(out, std::move(required));
    Emit(out, std::move(state));
    return out;
  }

 private:
  mutable KeptFile file_;
};

const CollectorRegistrar kRegistrar({
    .name = "mdadm",
    .enabled_by_default = true,
    .help = "Software RAID (md) state from /proc/mdstat",
    .flags = {},
    .make = [](const CollectorContext& ctx) { return std::make_unique<MdadmCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
