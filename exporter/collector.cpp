#include "collector.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "web_config.h"

namespace xw::exporter {

std::string Paths::Root(const std::string& abs) const {
  if (rootfs.empty() || rootfs == "/") return abs;
  return rootfs + abs;
}

bool CollectorContext::BoolOption(const std::string& flag) const {
  const std::string& v = Option(flag);
  if (v != "true" && v != "false") throw ConfigError("--" + flag + ": expected true or false, got '" + v + "'");
  return v == "true";
}

std::string DoesNotExist(const std::string& path) {
  return path + " does not exist";
}

std::string Missing(const std::string& path) {
  if (::access(path.c_str(), F_OK) == 0 || (errno != ENOENT && errno != ENOTDIR)) return {};
  return DoesNotExist(path);
}

CollectorCatalog& CollectorCatalog::Instance() {
  static CollectorCatalog catalog;
  return catalog;
}

void CollectorCatalog::Add(CollectorSpec spec) {
  const auto pos = std::lower_bound(specs_.begin(), specs_.end(), spec.name,
                                    [](const CollectorSpec& s, const std::string& n) { return s.name < n; });
  specs_.insert(pos, std::move(spec));
}

const CollectorSpec* CollectorCatalog::Find(const std::string& name) const {
  for (const auto& s : specs_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

}  // namespace xw::exporter
