// node_os_info and node_os_version from os-release(5) under --path.rootfs (/etc/os-release,
// else /usr/lib/os-release).
#include <array>
#include <map>

#include "collector.h"
#include "metric_family.h"
#include "text_file.h"

namespace xw::exporter {
namespace {

// The keys node_exporter exports, as label names (lower case), sorted.
constexpr std::array<std::string_view, 12> kKeys = {"build_id",      "id",          "id_like",    "image_id",
                                                    "image_version", "name",        "pretty_name", "variant",
                                                    "variant_id",    "version",     "version_codename", "version_id"};

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

class OsCollector : public Collector {
 public:
  explicit OsCollector(const CollectorContext& ctx)
      : files_{ctx.paths.Root("/etc/os-release"), ctx.paths.Root("/usr/lib/os-release")} {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::optional<std::string> text;
    for (const auto& f : files_) {
      if ((text = ReadFileIfExists(f, 64 * 1024))) break;
    }
    if (!text) throw NoDataError("no os-release file: " + files_[0] + ", " + files_[1]);
    auto kv = Parse(*text);
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

 private:
  std::array<std::string, 2> files_;
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
