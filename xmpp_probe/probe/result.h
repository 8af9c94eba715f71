// What one probe run found, and its rendering as Prometheus text for /probe. Metric names
// follow blackbox_exporter's (probe_success, probe_duration_seconds, probe_ssl_*) so existing
// dashboards and alerts carry over; XMPP specifics are probe_xmpp_*.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "xmpp/outcome.h"

namespace xp {

struct Sample {
  std::string name;
  std::string help;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct ProbeResult {
  Outcome outcome = Outcome::kOk;
  std::string detail;  // human-readable, safe to log (never holds a password)
  double duration_seconds = 0;
  std::map<std::string, double> phases;  // probe_xmpp_duration_seconds{phase}
  std::vector<Sample> extra;

  bool success() const { return outcome == Outcome::kOk; }
  void Add(std::string name, std::string help, double value, std::map<std::string, std::string> labels = {}) {
    extra.push_back({std::move(name), std::move(help), std::move(labels), value});
  }
};

// Prometheus text exposition of a result (serialized with prometheus-cpp).
std::string RenderResult(const ProbeResult& result);

}  // namespace xp
