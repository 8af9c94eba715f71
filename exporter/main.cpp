// xmppwatch_exporter: serves node, service, ejabberd and MariaDB metrics for Prometheus.
#include <signal.h>

#include <iostream>
#include <memory>

#include "exporter_config.h"
#include "http_server.h"
#include "lb_agent/lb_agent.h"
#include "log.h"
#include "node_scraper.h"
#include "self_metrics.h"
#include "text_format.h"
#include "web_config.h"

namespace {

using xw::exporter::ExporterConfig;

std::string LandingPage(const std::string& telemetry_path) {
  return "<html><head><title>xmppwatch exporter</title></head><body><h1>xmppwatch exporter</h1>"
         "<p><a href=\"" + telemetry_path + "\">Metrics</a></p></body></html>\n";
}

int Run(const ExporterConfig& cfg) {
  // Block the stop signals before any thread starts (every thread inherits the mask), then
  // wait for one at the end: a SIGTERM can no longer land on a worker mid-write.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  xw::log::SetLevel(xw::log::ParseLevel(cfg.log_level));
  xw::HttpServerOptions options;
  options.address = xw::ParseListenAddress(cfg.listen_address);
  options.web = xw::LoadWebConfig(cfg.web_config_file);
  options.workers = cfg.web_workers;

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
    a.interval = std::chrono::milliseconds(static_cast<long>(cfg.lb_agent_interval * 1000));
    a.timeout = std::chrono::milliseconds(static_cast<long>(cfg.lb_agent_timeout * 1000));
    agent = std::make_unique<xw::exporter::LbAgent>(std::move(a));
  }

  xw::HttpServer server(options);
  server.Handle(cfg.telemetry_path, [&scraper, &self_metrics, &agent](const xw::HttpRequest&) {
    std::string body;
    body.reserve(32 * 1024);
    scraper.AppendText(body);
    if (agent) xw::AppendTextFormat(body, agent->Collect());
    xw::AppendTextFormat(body, self_metrics.Collect());
    return xw::HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", std::move(body)};
  });
  if (cfg.telemetry_path != "/") {
    server.Handle("/", [&cfg](const xw::HttpRequest&) {
      return xw::HttpResponse{200, "text/html; charset=utf-8", LandingPage(cfg.telemetry_path)};
    });
  }

  server.Start();
  int sig = 0;
  sigwait(&stop_signals, &sig);
  xw::log::Info("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  server.Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = xw::exporter::ParseFlags(argc, argv);
  if (!parsed.config) return parsed.exit_code;
  try {
    return Run(*parsed.config);
  } catch (const xw::ConfigError& e) {
    std::cerr << "xmppwatch_exporter: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "xmppwatch_exporter: fatal: " << e.what() << "\n";
    return 1;
  }
}
