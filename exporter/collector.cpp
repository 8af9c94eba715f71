#include "collector.h"

#include <algorithm>

namespace xw::exporter {

std::string Paths::Root(const std::string& abs) const {
  if (rootfs.empty() || rootfs == "/") return abs;
  return rootfs + abs;
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
