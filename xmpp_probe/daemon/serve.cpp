// The daemon: /probe runs one module against one target (blackbox_exporter's contract),
// /metrics exposes the probe's own counters and the continuous failover and e2e modules.
#include "daemon/serve.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>
#include <signal.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>

#include "daemon/e2e_metrics.h"
#include "daemon/failover_metrics.h"
#include "http_server.h"
#include "log.h"
#include "probe/e2e.h"
#include "probe/failover.h"
#include "probe/modules.h"
#include "probe/target_policy.h"
#include "text_format.h"
#include "web_config.h"

namespace xp {

namespace {

const char* kLanding =
    "<html><head><title>xmpp_probe</title></head><body><h1>xmpp_probe</h1>"
    "<p><a href='/metrics'>Metrics</a></p><p>Probe: <code>/probe?module=login&amp;target=127.0.0.1:5222</code></p>"
    "</body></html>";

// The module as the request runs it: Prometheus gives up on a scrape after its
// scrape_timeout, so a probe must end before that or its answer is thrown away (and the
// target shows as down for the wrong reason). blackbox_exporter's rule: the module's timeout,
// or the scrape timeout less half a second, whichever is shorter.
ModuleConfig WithinScrapeTimeout(ModuleConfig module, std::optional<double> scrape_timeout_seconds) {
  if (!scrape_timeout_seconds) return module;
  const auto budget = std::chrono::milliseconds(static_cast<long long>((*scrape_timeout_seconds - 0.5) * 1000));
  module.timeout = std::min(module.timeout, std::max(budget, std::chrono::milliseconds(100)));
  return module;
}

}  // namespace

int Serve(const ServeOptions& opts) {
  // Replaced whole on SIGHUP; each /probe request keeps the version it started with.
  std::shared_ptr<const ProbeConfig> config = std::make_shared<const ProbeConfig>(LoadProbeConfig(opts.common));
  std::mutex config_mu;
  auto current_config = [&] {
    std::lock_guard lock(config_mu);
    return config;
  };
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
  sigaddset(&set, SIGHUP);
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
    for (const auto& [name, m] : config->modules) {
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

  // The e2e module (SLO traffic) runs next to failover, and --no-continuous skips it too.
  std::unique_ptr<E2eRunner> e2e;
  std::string e2e_module;
  if (opts.continuous) {
    for (const auto& [name, m] : config->modules) {
      if (m.prober != "e2e" || !m.e2e.continuous) continue;
      try {
        auto runner = std::make_unique<E2eRunner>(m);
        runner->Start();
        e2e = std::move(runner);
        e2e_module = name;
        xw::log::Info("e2e module running", {{"module", name}, {"target", m.target}});
      } catch (const std::exception& e) {
        xw::log::Warn("e2e module not started", {{"module", name}, {"err", e.what()}});
      }
      break;
    }
  }

  xw::HttpServer server(http);
  server.Handle("/", [](const xw::HttpRequest&) {
    return xw::HttpResponse{200, "text/html; charset=utf-8", kLanding};
  });
  server.Handle("/-/healthy", [](const xw::HttpRequest&) { return xw::HttpResponse{200, "text/plain", "OK\n"}; });
  // A probe is a whole XMPP login: it runs on the server's worker pool, so /metrics and other
  // probes keep answering while one waits on a slow target.
  server.HandleBlocking("/probe", [&](const xw::HttpRequest& req) {
    const auto cfg = current_config();
    std::string module = req.Param("module");
    auto it = cfg->modules.find(module);
    if (it == cfg->modules.end()) {
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
      r.Add("probe_xmpp_failover_sessions_up", "Failover sessions connected.",
            (s.sender_up ? 1 : 0) + (s.receiver_up ? 1 : 0));
    } else if (e2e && module == e2e_module) {
      // Success: the sender is logged in through the load balancer and at least one receiver
      // is; how the messages fare is in /metrics (xmpp_probe_e2e_*).
      const E2eSnapshot s = e2e->Snapshot();
      int receivers_up = 0;
      for (const auto& [session, up] : s.up) receivers_up += session != "sender" && up ? 1 : 0;
      const bool sender_up = s.up.count("sender") && s.up.at("sender");
      r.outcome = sender_up && receivers_up > 0 ? Outcome::kOk : Outcome::kClosed;
      r.detail = s.last_error;
      r.Add("probe_xmpp_e2e_sessions_up", "e2e sessions logged in (sender and receivers).",
            receivers_up + (sender_up ? 1 : 0));
    } else {
      r = RunProbe(WithinScrapeTimeout(it->second, req.scrape_timeout_seconds), target);
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
    if (e2e) {
      auto more = E2eFamilies(e2e->Snapshot());
      fams.insert(fams.end(), more.begin(), more.end());
    }
    return xw::HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", xw::TextFormat(fams)};
  });

  server.Start();
  int sig = 0;
  while (sigwait(&set, &sig) == 0 && sig == SIGHUP) {
    // Like Prometheus' exporters: SIGHUP re-reads the configuration; a broken file is logged
    // and the running configuration stays. The continuous failover sessions keep the module
    // they started with (restarting them would count an outage that users did not have).
    try {
      // Both files are read before either takes effect, so a broken one changes nothing.
      std::shared_ptr<const ProbeConfig> fresh;
      if (!opts.common.config_file.empty()) fresh = std::make_shared<const ProbeConfig>(LoadProbeConfig(opts.common));
      if (!opts.web_config_file.empty()) server.ReloadWebConfig(opts.web_config_file);
      if (fresh) {
        std::lock_guard lock(config_mu);
        config = std::move(fresh);
      }
      xw::log::Info("configuration reloaded",
                    {{"config_file", opts.common.config_file}, {"web_config_file", opts.web_config_file}});
    } catch (const std::exception& e) {
      xw::log::Error("configuration not reloaded, keeping the running one", {{"err", e.what()}});
    }
  }
  xw::log::Info("shutting down", {{"signal", std::to_string(sig)}});
  server.Stop();
  if (failover) failover->Stop(std::chrono::milliseconds(0));
  if (e2e) e2e->Stop();
  return 0;
}

}  // namespace xp
