// xmppwatch_exporter: serves node, service, ejabberd and MariaDB metrics for Prometheus.
#include <signal.h>

#include <cstdlib>
#include <future>
#include <iostream>
#include <memory>
#include <thread>

#include "exporter_config.h"
#include "http_server.h"
#include "lb_agent/lb_agent.h"
#include "log.h"
#include "node_scraper.h"
#include "request_limit.h"
#include "self_metrics.h"
#include "text_format.h"
#include "web_config.h"

namespace {

using xw::exporter::ExporterConfig;

// How long a stop signal waits for scrapes in flight. A scrape can take seconds (a stuck
// mount waits --collector.filesystem.mount-timeout); a scrape cut short costs nothing, while
// a daemon that does not stop makes systemd wait and then SIGKILL it.
constexpr auto kShutdownGrace = std::chrono::milliseconds(500);

std::string LandingPage(const std::string& telemetry_path) {
  return "<html><head><title>xmppwatch exporter</title></head><body><h1>xmppwatch exporter</h1>"
         "<p><a href=\"" +
         telemetry_path + "\">Metrics</a></p></body></html>\n";
}

int Run(const ExporterConfig& cfg, const sigset_t& stop_signals) {
  xw::log::SetLevel(xw::log::ParseLevel(cfg.log_level));
  xw::log::SetFormat(cfg.log_format);
  for (const auto& w : cfg.warnings) xw::log::Warn(w);
  const xw::WebConfig web = xw::LoadWebConfig(cfg.web_config_file);

  // One thread by default: on this kind of host the collectors take tens of microseconds each
  // and a second thread cost more CPU and memory than it saved in latency (docs/exporter.md).
  const xw::exporter::NodeScraper scraper(xw::exporter::MakeCollectors(cfg), static_cast<unsigned>(cfg.scrape_threads));
  const xw::exporter::SelfMetrics self_metrics(cfg.paths.procfs);
  std::string enabled;
  for (const auto& c : cfg.enabled_collectors) enabled += (enabled.empty() ? "" : ",") + c;
  xw::log::Info("starting xmppwatch_exporter", {{"version", XMPPWATCH_VERSION}, {"collectors", enabled}});

  std::unique_ptr<xw::exporter::LbAgent> agent;
  if (!cfg.lb_agent_address.empty()) {
    xw::exporter::LbAgentOptions a;
    a.address = xw::ParseListenAddress(cfg.lb_agent_address);
    a.api_url = cfg.lb_agent_api_url;
    a.domain = cfg.lb_agent_domain;
    a.user = cfg.lb_agent_user;
    a.interval = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.lb_agent_interval);
    a.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.lb_agent_timeout);
    agent = std::make_unique<xw::exporter::LbAgent>(std::move(a));
  }

  xw::exporter::RequestLimit limit(cfg.max_requests);
  const auto metrics = limit.Wrap([&scraper, &self_metrics, &agent, &cfg](const xw::HttpRequest&) {
    std::string body;
    body.reserve(32 * 1024);
    std::vector<xw::exporter::NodeScraper::Extra> extras;
    if (agent) extras.emplace_back("lb_agent", agent->Collect());
    // node_exporter's --web.disable-exporter-metrics drops process_* and go_*; its build info stays.
    extras.emplace_back("exporter", self_metrics.Collect());
    if (cfg.disable_exporter_metrics) {
      std::erase_if(extras.back().second, [](const auto& f) { return f.name.starts_with("process_"); });
    }
    scraper.AppendText(body, extras);
    return xw::HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", std::move(body)};
  });

  // One server per --web.listen-address, as node_exporter 1.5 listens on each.
  std::vector<std::unique_ptr<xw::HttpServer>> servers;
  for (const auto& address : cfg.listen_addresses) {
    xw::HttpServerOptions options;
    options.address = xw::ParseListenAddress(address);
    options.web = web;
    options.workers = cfg.web_workers;
    auto server = std::make_unique<xw::HttpServer>(options);
    server->Handle(cfg.telemetry_path, metrics);
    if (cfg.telemetry_path != "/") {
      server->Handle("/", [&cfg](const xw::HttpRequest&) {
        return xw::HttpResponse{200, "text/html; charset=utf-8", LandingPage(cfg.telemetry_path)};
      });
    }
    server->Start();
    servers.push_back(std::move(server));
  }

  int sig = 0;
  while (sigwait(&stop_signals, &sig) == 0 && sig == SIGHUP) {
    // As Prometheus' exporters do: SIGHUP re-reads the web config (TLS files, users, headers)
    // for new connections; a broken one is logged and the running one stays in force.
    if (cfg.web_config_file.empty()) continue;
    try {
      for (auto& s : servers) s->ReloadWebConfig(cfg.web_config_file);
      xw::log::Info("web config reloaded", {{"file", cfg.web_config_file}});
    } catch (const std::exception& e) {
      xw::log::Error("web config not reloaded, keeping the running one",
                     {{"file", cfg.web_config_file}, {"err", e.what()}});
    }
  }
  xw::log::Info("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  // Stop() waits for handlers that are running; a scrape in flight may take seconds more.
  std::promise<void> stopped;
  auto done = stopped.get_future();
  std::thread stopper([&servers, &stopped] {
    for (auto& s : servers) s->Stop();
    stopped.set_value();
  });
  if (done.wait_for(kShutdownGrace) == std::future_status::timeout) {
    xw::log::Info("a scrape is still running; exiting without waiting for it");
    std::fflush(nullptr);
    std::_Exit(0);  // the scrape's thread still uses what destructors would free
  }
  stopper.join();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Block the stop signals before anything can start a thread (every thread inherits the
  // mask), then wait for one at the end of Run(): a SIGTERM never lands on a worker mid-write.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);  // reload, taken by the same sigwait
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto parsed = xw::exporter::ParseFlags(argc, argv);
  if (!parsed.config) return parsed.exit_code;
  try {
    return Run(*parsed.config, stop_signals);
  } catch (const xw::ConfigError& e) {
    std::cerr << "xmppwatch_exporter: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "xmppwatch_exporter: fatal: " << e.what() << "\n";
    return 1;
  }
}
