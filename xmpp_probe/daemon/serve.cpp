// The daemon: /probe runs one module against one target (blackbox_exporter's contract),
// /metrics exposes the probe's own counters and the continuous failover module.
#include "daemon/serve.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <signal.h>

#include <memory>

#include "daemon/failover_metrics.h"
#include "http_server.h"
#include "log.h"
#include "probe/failover.h"
#include "probe/modules.h"
#include "probe/target_policy.h"
#include "web_config.h"

namespace xp {

namespace {

const char* kLanding =
    "<html><head><title>xmpp_probe</title></head><body><h1>xmpp_probe</h1>"
    "<p><a href='/metrics'>Metrics</a></p><p>Probe: <code>/probe?module=login&amp;target=127.0.0.1:5222</code></p>"
    "</body></html>";

}  // namespace

int Serve(const ServeOptions& opts) {
  ProbeConfig config = LoadProbeConfig(opts.common);
  xw::HttpServerOptions http;
  http.address = xw::ParseListenAddress(opts.listen_address);
  http.web = xw::LoadWebConfig(opts.web_config_file);

  // Signals are taken synchronously by this thread; block them before any thread exists (the
  // failover sessions, the HTTP workers) so none of those threads is picked to receive them
  // and killed mid-write.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  auto registry = std::make_shared<prometheus::Registry>();
  auto& probes = prometheus::BuildCounter()
                     .Name("xmpp_probe_probes_total")
                     .Help("Probes run through /probe, by module and outcome.")
                     .Register(*registry);

  std::unique_ptr<FailoverRunner> failover;
  std::string failover_module;
  FailoverMetrics failover_metrics;
  if (opts.continuous) {
    for (const auto& [name, m] : config.modules) {
      if (m.prober != "failover" || !m.failover.continuous) continue;
      failover = std::make_unique<FailoverRunner>(m, "");
      failover->OnOutage([&failover_metrics](const Outage& o) {
        failover_metrics.Observe(o);
        xw::log::Info("failover outage", {{"session", o.session},
                                          {"outage_s", std::to_string(o.duration)},
                                          {"detection_s", std::to_string(o.detection)},
                                          {"attempts", std::to_string(o.reconnect_attempts)},
                                          {"resumed", o.resumed ? "true" : "false"},
                                          {"cause", o.cause}});
      });
      try {
        failover->Start();
      } catch (const std::exception& e) {
        // Missing credentials must not keep the one-shot probes from serving.
        xw::log::Warn("failover module not started", {{"module", name}, {"err", e.what()}});
        failover.reset();
        break;
      }
      failover_module = name;
      xw::log::Info("failover module running", {{"module", name}, {"target", m.target}});
      break;
    }
  }

  xw::HttpServer server(http);
  server.Handle("/", [](const xw::HttpRequest&) {
    return xw::HttpResponse{200, "text/html; charset=utf-8", kLanding};
  });
  server.Handle("/-/healthy", [](const xw::HttpRequest&) { return xw::HttpResponse{200, "text/plain", "OK\n"}; });
  server.Handle("/probe", [&](const xw::HttpRequest& req) {
    std::string module = req.Param("module");
    auto it = config.modules.find(module);
    if (it == config.modules.end()) {
      return xw::HttpResponse{400, "text/plain; charset=utf-8", "unknown module '" + module + "'\n"};
    }
    const std::string target = req.Param("target");
    if (auto refusal = TargetRefusal(it->second, target)) {
      probes.Add({{"module", module}, {"outcome", "target_not_allowed"}}).Increment();
      xw::log::Warn("probe refused", {{"module", module}, {"target", target}, {"err", *refusal}});
      return xw::HttpResponse{403, "text/plain; charset=utf-8", *refusal + "\n"};
    }
    ProbeResult r;
    if (failover && module == failover_module) {
      // The continuous sessions already know: success means both are connected right now.
      FailoverStats s = failover->Snapshot();
      r.outcome = s.sender_up && s.receiver_up ? Outcome::kOk : Outcome::kClosed;
      r.detail = s.last_error;
      r.Add("probe_xmpp_failover_sessions_up", "Failover sessions connected.", (s.sender_up ? 1 : 0) + (s.receiver_up ? 1 : 0));
    } else {
      r = RunProbe(it->second, target);
    }
    probes.Add({{"module", module}, {"outcome", std::string(OutcomeName(r.outcome))}}).Increment();
    if (!r.success()) {
      xw::log::Info("probe failed", {{"module", module},
                                     {"target", target},
                                     {"outcome", std::string(OutcomeName(r.outcome))},
                                     {"err", r.detail}});
    }
    return xw::HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", RenderResult(r)};
  });
  server.Handle("/metrics", [&](const xw::HttpRequest&) {
    auto fams = registry->Collect();
    if (failover) {
      auto more = failover_metrics.Collect(failover->Snapshot());
      fams.insert(fams.end(), more.begin(), more.end());
    }
    return xw::HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8",
                            prometheus::TextSerializer().Serialize(fams)};
  });

  server.Start();
  int sig = 0;
  sigwait(&set, &sig);
  xw::log::Info("shutting down", {{"signal", std::to_string(sig)}});
  server.Stop();
  if (failover) failover->Stop(std::chrono::milliseconds(0));
  return 0;
}

}  // namespace xp
