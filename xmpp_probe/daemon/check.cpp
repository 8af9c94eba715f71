// `xmpp_probe check`: one probe, Nagios/Icinga plugin output and exit codes, so the same
// probe serves both Prometheus and a classic monitoring system.
#include <cstdio>
#include <iostream>
#include <sstream>

#include "daemon/serve.h"
#include "probe/modules.h"

namespace xp {

int Check(const CheckOptions& opts) {
  ProbeConfig cfg;
  const ModuleConfig* module = nullptr;
  try {
    cfg = LoadProbeConfig(opts.common);
    module = &FindModule(cfg, opts.module);
  } catch (const std::exception& e) {
    std::cout << "XMPP UNKNOWN - " << e.what() << "\n";
    return 3;
  }
  ProbeResult r = RunProbe(*module, opts.target);
  std::string target = opts.target.empty() ? module->target : opts.target;
  std::ostringstream perf;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", r.duration_seconds);
  perf << "time=" << buf << "s;" << (opts.warning > 0 ? std::to_string(opts.warning) : "") << ";"
       << (opts.critical > 0 ? std::to_string(opts.critical) : "") << ";0;";
  for (const auto& [phase, secs] : r.phases) {
    std::snprintf(buf, sizeof buf, "%.6f", secs);
    perf << " " << phase << "=" << buf << "s";
  }
  int code = 0;
  std::string state = "OK";
  std::string what;
  if (r.outcome == Outcome::kConfigError) {
    code = 3, state = "UNKNOWN";
    what = r.detail;
  } else if (!r.success()) {
    code = 2, state = "CRITICAL";
    what = std::string(OutcomeName(r.outcome)) + ": " + r.detail;
  } else {
    std::snprintf(buf, sizeof buf, "%.3f", r.duration_seconds);
    what = opts.module + " to " + target + " in " + buf + "s";
    if (opts.critical > 0 && r.duration_seconds >= opts.critical)
      code = 2, state = "CRITICAL";
    else if (opts.warning > 0 && r.duration_seconds >= opts.warning)
      code = 1, state = "WARNING";
  }
  std::cout << "XMPP " << state << " - " << what << " | " << perf.str() << "\n";
  if (opts.verbose) std::cout << RenderResult(r);
  return code;
}

}  // namespace xp
