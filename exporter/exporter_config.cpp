#include "exporter_config.h"

#include <CLI/CLI.hpp>

#include <iostream>

#include "web_config.h"

namespace xw::exporter {

ParseOutcome ParseFlags(int argc, char** argv) {
  ExporterConfig cfg;
  CLI::App app{"xmppwatch_exporter: node, service, ejabberd and MariaDB metrics for Prometheus"};
  app.set_version_flag("--version", "xmppwatch_exporter, version " XMPPWATCH_VERSION);
  app.get_formatter()->column_width(52);

  app.add_option("--web.listen-address", cfg.listen_address, "Address to listen on: host:port, :port or [v6]:port")
      ->capture_default_str();
  app.add_option("--web.telemetry-path", cfg.telemetry_path, "Path under which to expose metrics")
      ->capture_default_str();
  app.add_option("--web.config.file", cfg.web_config_file,
                 "Exporter-toolkit web config (YAML) for TLS and basic auth");
  app.add_option("--web.workers", cfg.web_workers, "Threads serving requests (idle clients hold none)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--scrape.threads", cfg.scrape_threads,
                 "Collectors run at once per scrape (more: shorter scrapes when collectors wait on slow files, "
                 "a little more CPU and memory)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--log.level", cfg.log_level, "debug, info, warn or error")
      ->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app.add_option("--path.procfs", cfg.paths.procfs, "procfs mountpoint")->capture_default_str();
  app.add_option("--path.sysfs", cfg.paths.sysfs, "sysfs mountpoint")->capture_default_str();
  app.add_option("--path.rootfs", cfg.paths.rootfs, "rootfs mountpoint")->capture_default_str();
  app.add_option("--path.udev.data", cfg.paths.udev_data, "udev data path")->capture_default_str();

  app.add_option("--lb-agent.listen-address", cfg.lb_agent_address,
                 "Serve HAProxy's agent-check here (host:port): 'up' while a write through ejabberd's SQL pool "
                 "succeeds, else 'down #reason'. Off when empty")
      ->group("Load balancer agent");
  app.add_option("--lb-agent.ejabberd-api-url", cfg.lb_agent_api_url, "This node's mod_http_api base URL")
      ->capture_default_str()
      ->group("Load balancer agent");
  app.add_option("--lb-agent.domain", cfg.lb_agent_domain, "XMPP domain (vhost) of the check account")
      ->group("Load balancer agent");
  app.add_option("--lb-agent.user", cfg.lb_agent_user, "Account whose last-activity row the check writes")
      ->capture_default_str()
      ->group("Load balancer agent");
  app.add_option("--lb-agent.interval", cfg.lb_agent_interval, "Seconds between checks")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 60.0))
      ->group("Load balancer agent");
  app.add_option("--lb-agent.timeout", cfg.lb_agent_timeout, "Seconds a check may take before it counts as failed")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 60.0))
      ->group("Load balancer agent");

  bool disable_defaults = false;
  app.add_flag("--collector.disable-defaults", disable_defaults,
               "Enable only the collectors given explicitly with --collector.<name>");

  const auto& specs = CollectorCatalog::Instance().specs();
  std::vector<bool> enabled;
  std::vector<CLI::Option*> switches;
  enabled.reserve(specs.size());
  for (const auto& s : specs) enabled.push_back(s.enabled_by_default);
  // vector<bool> has no addressable elements: keep each switch in its own storage.
  std::vector<std::unique_ptr<bool>> storage;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    storage.push_back(std::make_unique<bool>(specs[i].enabled_by_default));
    const std::string help = specs[i].help + (specs[i].enabled_by_default ? " (default: enabled)" : " (default: disabled)");
    switches.push_back(app.add_flag("--collector." + specs[i].name + ",!--no-collector." + specs[i].name,
                                    *storage.back(), help)
                           ->group("Collectors"));
    for (const auto& f : specs[i].flags) {
      auto& value = cfg.collector_options[f.name];
      value = f.default_value;
      app.add_option("--" + f.name, value, f.help)->capture_default_str()->group("Collector options");
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return {std::nullopt, code == 0 ? 0 : 1};
  }
  if (!cfg.lb_agent_address.empty() && cfg.lb_agent_domain.empty()) {
    std::cerr << "--lb-agent.domain is required with --lb-agent.listen-address\n";
    return {std::nullopt, 1};
  }
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const bool explicit_flag = switches[i]->count() > 0;
    const bool on = disable_defaults ? (explicit_flag && *storage[i]) : *storage[i];
    if (on) cfg.enabled_collectors.push_back(specs[i].name);
  }
  return {std::move(cfg), 0};
}

std::vector<std::pair<std::string, std::unique_ptr<Collector>>> MakeCollectors(const ExporterConfig& config) {
  std::vector<std::pair<std::string, std::unique_ptr<Collector>>> out;
  CollectorContext ctx{config.paths, config.collector_options};
  for (const auto& name : config.enabled_collectors) {
    const CollectorSpec* spec = CollectorCatalog::Instance().Find(name);
    if (spec == nullptr) throw ConfigError("unknown collector '" + name + "'");
    try {
      out.emplace_back(name, spec->make(ctx));
    } catch (const ConfigError&) {
      throw;
    } catch (const std::exception& e) {
      throw ConfigError("collector " + name + ": " + e.what());
    }
  }
  return out;
}

}  // namespace xw::exporter
