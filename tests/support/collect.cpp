#include "collect.h"

namespace xw::testing {

exporter::Paths FixturePaths(const std::string& variant) {
  const std::string base = FixtureDir() + (variant.empty() ? "" : "/" + variant);
  exporter::Paths p;
  p.procfs = base + "/proc";
  p.sysfs = FixtureDir() + "/sys";
  p.rootfs = FixtureDir();
  p.udev_data = FixtureDir() + "/udev";
  return p;
}

std::unique_ptr<exporter::Collector> MakeCollector(const std::string& name, const exporter::Paths& paths,
                                                   std::map<std::string, std::string> options) {
  const auto* spec = exporter::CollectorCatalog::Instance().Find(name);
  if (spec == nullptr) throw std::invalid_argument("no collector " + name);
  exporter::CollectorContext ctx{paths, {}};
  for (const auto& f : spec->flags) ctx.options[f.name] = f.default_value;
  for (auto& [k, v] : options) ctx.options[k] = v;
  return spec->make(ctx);
}

std::vector<prometheus::MetricFamily> Collect(const std::string& name, const exporter::Paths& paths,
                                              std::map<std::string, std::string> options) {
  return MakeCollector(name, paths, std::move(options))->Collect();
}

const prometheus::MetricFamily* FindFamily(const std::vector<prometheus::MetricFamily>& families,
                                           const std::string& name) {
  for (const auto& f : families) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::optional<double> Value(const std::vector<prometheus::MetricFamily>& families, const std::string& name,
                            const std::map<std::string, std::string>& labels) {
  const auto* f = FindFamily(families, name);
  if (f == nullptr) return std::nullopt;
  for (const auto& m : f->metric) {
    std::map<std::string, std::string> got;
    for (const auto& l : m.label) got[l.name] = l.value;
    if (got != labels) continue;
    switch (f->type) {
      case prometheus::MetricType::Counter:
        return m.counter.value;
      case prometheus::MetricType::Gauge:
        return m.gauge.value;
      default:
        return m.untyped.value;
    }
  }
  return std::nullopt;
}

}  // namespace xw::testing
