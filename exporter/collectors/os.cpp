// node_os_info and node_os_version from os-release(5) under --path.rootfs (/etc/os-release,
// else /usr/lib/os-release).
#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

#include "collector.h"
#include "metric_family.h"
#include "text_file.h"

namespace xw::exporter {
namespace {

// The keys node_exporter exports, as label names (lower case), sorted.
constexpr std::array<std::string_view, 12> kKeys = {"build_id",      "id",      "id_like",          "image_id",
                                                    "image_version", "name",    "pretty_name",      "variant",
                                                    "variant_id",    "version", "version_codename", "version_id"};

// os-release values are shell-style: optionally quoted, with backslash escapes inside quotes.
std::string Unquote(std::string_view v) {
  if (v.size() < 2 || (v.front() != '"' && v.front() != '\'') || v.back() != v.front()) return std::string(v);
  const char q = v.front();
  v = v.substr(1, v.size() - 2);
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (q == '"' && v[i] == '\\' && i + 1 < v.size()) ++i;
    out.push_back(v[i]);
  }
  return out;
}

std::map<std::string, std::string> Parse(const std::string& text) {
  std::map<std::string, std::string> kv;
  for (auto line : Lines(text)) {
    line = Trim(line);
    if (line.empty() || line.front() == '#') continue;
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;  // os-release(5): invalid lines are ignored
    std::string key(line.substr(0, eq));
    for (char& ch : key) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    kv[key] = Unquote(Trim(line.substr(eq + 1)));
  }
  return kv;
}

// "22.04.3" -> 22.04, "12" -> 12: node_exporter's ^[0-9]+\.?[0-9]* prefix.
std::optional<double> MajorMinor(const std::string& version_id) {
  std::size_t i = 0;
  while (i < version_id.size() && std::isdigit(static_cast<unsigned char>(version_id[i]))) ++i;
  if (i == 0) return std::nullopt;
  if (i < version_id.size() && version_id[i] == '.') {
    ++i;
    while (i < version_id.size() && std::isdigit(static_cast<unsigned char>(version_id[i]))) ++i;
  }
  return ToDouble(std::string_view(version_id).substr(0, i));
}

// Which file was parsed and its identity when it was: os-release changes on upgrades only, so
// a scrape re-parses it only when this changes (node_exporter keys its cache on the mtime too).
struct FileStamp {
  std::size_t index = 0;
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  timespec mtime{};
  bool operator==(const FileStamp& o) const {
    return index == o.index && dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
           mtime.tv_nsec == o.mtime.tv_nsec;
  }
};

class OsCollector : public Collector {
 public:
  explicit OsCollector(const CollectorContext& ctx)
      : files_{ctx.paths.Root("/etc/os-release"), ctx.paths.Root("/usr/lib/os-release")} {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    for (std::size_t i = 0; i < files_.size(); ++i) {
      struct stat st {};
      if (::stat(files_[i].c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) continue;
        throw ParseError(files_[i] + ": " + std::strerror(errno));
      }
      const FileStamp stamp{i, st.st_dev, st.st_ino, st.st_size, st.st_mtim};
      std::lock_guard lock(mu_);
      if (!cached_ || !(cached_->first == stamp)) {
        cached_.emplace(stamp, Families(ReadFileIfExists(files_[i], 64 * 1024).value_or("")));
      }
      return cached_->second;
    }
    throw NoDataError("no os-release file: " + files_[0] + ", " + files_[1]);
  }

 private:
  static std::vector<prometheus::MetricFamily> Families(const std::string& text) {
    auto kv = Parse(text);
    Labels info;
    for (auto key : kKeys) info.push_back({std::string(key), kv[std::string(key)]});
    std::vector<prometheus::MetricFamily> out;
    Emit(out, Gauge("node_os_info",
                    "A metric with a constant '1' value labeled by build_id, id, id_like, image_id, image_version, "
                    "name, pretty_name, variant, variant_id, version, version_codename, version_id.")
                  .Add(1, std::move(info)));
    if (const auto v = MajorMinor(kv["version_id"]); v && *v > 0) {
      Emit(out, Gauge("node_os_version", "Metric containing the major.minor part of the OS version.")
                    .Add(*v, {{"id", kv["id"]}, {"id_like", kv["id_like"]}, {"name", kv["name"]}}));
    }
    return out;
  }

  std::array<std::string, 2> files_;
  mutable std::mutex mu_;
  mutable std::optional<std::pair<FileStamp, std::vector<prometheus::MetricFamily>>> cached_;
};

const CollectorRegistrar kRegistrar({
    .name = "os",
    .enabled_by_default = true,
    .help = "OS release information from os-release(5)",
    .flags = {},
    .make = [](const CollectorContext& ctx) { return std::make_unique<OsCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
