// Small builder for prometheus::MetricFamily, so collectors read as a list of
// (name, help, type) and values.
#pragma once

#include <prometheus/metric_family.h>

#include <string>
#include <utility>
#include <vector>

namespace xw::exporter {

using Labels = std::vector<prometheus::ClientMetric::Label>;

class Family {
 public:
  Family(std::string name, std::string help, prometheus::MetricType type) {
    family_.name = std::move(name);
    family_.help = std::move(help);
    family_.type = type;
  }

  // On a temporary (Emit(out, Gauge(...).Add(v))) Add returns an rvalue, so the family is
  // moved into Emit instead of copied with all its samples.
  Family&& Add(double value, Labels labels = {}) && { return std::move(Add(value, std::move(labels))); }
  Family& Add(double value, Labels labels = {}) & {
    prometheus::ClientMetric m;
    m.label = std::move(labels);
    switch (family_.type) {
      case prometheus::MetricType::Counter:
        m.counter.value = value;
        break;
      case prometheus::MetricType::Gauge:
        m.gauge.value = value;
        break;
      default:
        m.untyped.value = value;
        break;
    }
    family_.metric.push_back(std::move(m));
    return *this;
  }

  bool empty() const { return family_.metric.empty(); }
  prometheus::MetricFamily Take() { return std::move(family_); }

 private:
  prometheus::MetricFamily family_;
};

inline Family Gauge(std::string name, std::string help) {
  return Family(std::move(name), std::move(help), prometheus::MetricType::Gauge);
}
inline Family Counter(std::string name, std::string help) {
  return Family(std::move(name), std::move(help), prometheus::MetricType::Counter);
}

// Appends a family unless it has no samples (the exposition format has no use for empty ones).
inline void Emit(std::vector<prometheus::MetricFamily>& out, Family family) {
  if (!family.empty()) out.push_back(family.Take());
}

}  // namespace xw::exporter
