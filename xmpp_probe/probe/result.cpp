#include "result.h"

#include <prometheus/metric_family.h>

#include "text_format.h"

namespace xp {

namespace {

prometheus::ClientMetric Gauge(double value, const std::map<std::string, std::string>& labels) {
  prometheus::ClientMetric m;
  m.gauge.value = value;
  for (const auto& [k, v] : labels) m.label.push_back({k, v});
  return m;
}

void Append(std::vector<prometheus::MetricFamily>& out, const std::string& name, const std::string& help, double value,
            const std::map<std::string, std::string>& labels = {}) {
  for (auto& f : out) {
    if (f.name == name) {
      f.metric.push_back(Gauge(value, labels));
      return;
    }
  }
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = prometheus::MetricType::Gauge;
  f.metric.push_back(Gauge(value, labels));
  out.push_back(std::move(f));
}

}  // namespace

std::string RenderResult(const ProbeResult& r) {
  std::vector<prometheus::MetricFamily> fams;
  Append(fams, "probe_success", "Whether the probe succeeded.", r.success() ? 1 : 0);
  Append(fams, "probe_duration_seconds", "How long the probe took to complete in seconds.", r.duration_seconds);
  for (const auto& [phase, secs] : r.phases) {
    Append(fams, "probe_xmpp_duration_seconds", "Duration of each XMPP phase of the probe in seconds.", secs,
           {{"phase", phase}});
  }
  Append(fams, "probe_xmpp_outcome", "How the probe ended (1 for the outcome that happened).", 1,
         {{"outcome", std::string(OutcomeName(r.outcome))}});
  for (const auto& s : r.extra) Append(fams, s.name, s.help, s.value, s.labels);
  return xw::TextFormat(fams);
}

}  // namespace xp
