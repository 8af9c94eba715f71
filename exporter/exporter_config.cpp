#include "exporter_config.h"

#include <CLI/CLI.hpp>

#include <iostream>

#include "node_exporter_flags.h"
#include "web_config.h"

namespace xw::exporter {
namespace {

// A collector flag as CLI11 sees it: bools are switches with a --no- form, everything else is
// text converted to its declared type once the whole command line has been read.
struct BoundFlag {
  const CollectorFlag* flag = nullptr;
  std::unique_ptr<bool> on;
  std::unique_ptr<std::string> text;
};

void AddCollectorFlags(CLI::App& app, const CollectorSpec& spec, std::vector<BoundFlag>& bound) {
  for (const auto& f : spec.flags) {
    BoundFlag b{&f, nullptr, nullptr};
    std::string names = "--" + f.name;
    for (const auto& a : f.aliases) names += ",--" + a;
    const std::string help = f.help + " [" + FlagTypeName(f.type) + "]";
    if (f.type == FlagType::kBool) {
      // kingpin's bools: --flag and --no-flag; --flag=true|false too, as this exporter took before.
      b.on = std::make_unique<bool>(f.default_value == "true");
      app.add_flag(names + ",!--no-" + f.name, *b.on, help)->default_str(f.default_value)->group("Collector options");
    } else {
      b.text = std::make_unique<std::string>(f.default_value);
      app.add_option(names, *b.text, help)
          ->capture_default_str()
          ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
          ->group("Collector options");
    }
    bound.push_back(std::move(b));
  }
}

// "0.25" (seconds, as before) or a Go duration, within [lo, hi].
CLI::Validator DurationRange(std::chrono::nanoseconds lo, std::chrono::nanoseconds hi) {
  return CLI::Validator(
      [lo, hi](std::string& text) -> std::string {
        std::chrono::nanoseconds d{};
        if (!ParseGoDuration(text, d)) return "expected a duration such as 250ms or 1s, got '" + text + "'";
        if (d < lo || d > hi) {
          return "must be between " + FormatGoDuration(lo) + " and " + FormatGoDuration(hi) + ", got '" + text + "'";
        }
        return {};
      },
      "DURATION");
}

}  // namespace

ParseOutcome ParseFlags(int argc, char** argv) {
  ExporterConfig cfg;
  CLI::App app{"xmppwatch_exporter: node, service, ejabberd and MariaDB metrics for Prometheus"};
  app.set_version_flag("--version", "xmppwatch_exporter, version " XMPPWATCH_VERSION);
  // kingpin's long help; there are no subcommands, so it is the same text.
  app.set_help_all_flag("--help-long,--help-man", "Print this help message and exit");
  app.get_formatter()->column_width(52);

  app.add_option("--web.listen-address", cfg.listen_addresses,
                 "Address to listen on: host:port, :port or [v6]:port. Repeatable: one listener each")
      ->capture_default_str()
      ->allow_extra_args(false);
  app.add_option("--web.telemetry-path", cfg.telemetry_path, "Path under which to expose metrics")
      ->capture_default_str();
  app.add_option("--web.config.file", cfg.web_config_file, "Exporter-toolkit web config (YAML) for TLS and basic auth");
  app.add_flag("--web.disable-exporter-metrics,!--no-web.disable-exporter-metrics", cfg.disable_exporter_metrics,
               "Exclude metrics about the exporter itself (process_*)");
  app.add_option("--web.max-requests", cfg.max_requests,
                 "Maximum number of parallel scrape requests (more are answered 503). 0 disables the cap")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--web.systemd-socket,!--no-web.systemd-socket", cfg.systemd_socket,
               "node_exporter's systemd socket activation; not implemented: accepted, warned about, and "
               "--web.listen-address is used");
  app.add_option("--web.workers", cfg.web_workers, "Threads serving requests (idle clients hold none)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--scrape.threads", cfg.scrape_threads,
                 "Collectors run at once per scrape (more: shorter scrapes when collectors wait on slow files, "
                 "a little more CPU and memory)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--log.level", cfg.log_level, "Only log messages with the given severity or above")
      ->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app.add_option("--log.format", cfg.log_format, "Output format of log messages")
      ->capture_default_str()
      ->check(CLI::IsMember({"logfmt", "json"}));
  app.add_option("--runtime.gomaxprocs", cfg.gomaxprocs,
                 "node_exporter's Go scheduler threads; no effect here (see --scrape.threads, --web.workers)")
      ->capture_default_str();
  app.add_option("--path.procfs", cfg.paths.procfs, "procfs mountpoint")->capture_default_str();
  app.add_option("--path.sysfs", cfg.paths.sysfs, "sysfs mountpoint")->capture_default_str();
  app.add_option("--path.rootfs", cfg.paths.rootfs, "rootfs mountpoint")->capture_default_str();
  app.add_option("--path.udev.data", cfg.paths.udev_data, "udev data path")->capture_default_str();

  std::string agent_interval = "250ms", agent_timeout = "1s";
  const char* const kAgent = "Load balancer agent";
  app.add_option("--lb-agent.listen-address", cfg.lb_agent_address,
                 "Serve HAProxy's agent-check here (host:port): 'up' while a write through ejabberd's SQL pool "
                 "succeeds, else 'down #reason'. Off when empty")
      ->group(kAgent);
  app.add_option("--lb-agent.ejabberd-api-url", cfg.lb_agent_api_url, "This node's mod_http_api base URL")
      ->capture_default_str()
      ->group(kAgent);
  app.add_option("--lb-agent.domain", cfg.lb_agent_domain, "XMPP domain (vhost) of the check account")->group(kAgent);
  app.add_option("--lb-agent.user", cfg.lb_agent_user, "Account whose last-activity row the check writes")
      ->capture_default_str()
      ->group(kAgent);
  app.add_option("--lb-agent.interval", agent_interval, "Time between checks (a duration; a bare number is seconds)")
      ->capture_default_str()
      ->check(DurationRange(std::chrono::milliseconds(50), std::chrono::seconds(60)))
      ->group(kAgent);
  app.add_option("--lb-agent.timeout", agent_timeout,
                 "Time a check may take before it counts as failed (a duration; a bare number is seconds)")
      ->capture_default_str()
      ->check(DurationRange(std::chrono::milliseconds(50), std::chrono::seconds(60)))
      ->group(kAgent);

  bool disable_defaults = false;
  app.add_flag("--collector.disable-defaults", disable_defaults,
               "Enable only the collectors given explicitly with --collector.<name>");

  const auto& specs = CollectorCatalog::Instance().specs();
  std::vector<CLI::Option*> switches;
  // vector<bool> has no addressable elements: keep each switch in its own storage.
  std::vector<std::unique_ptr<bool>> storage;
  std::vector<BoundFlag> bound;
  for (const auto& spec : specs) {
    storage.push_back(std::make_unique<bool>(spec.enabled_by_default));
    const std::string help = spec.help + (spec.enabled_by_default ? " (default: enabled)" : " (default: disabled)");
    switches.push_back(app.add_flag("--collector." + spec.name + ",!--no-collector." + spec.name, *storage.back(), help)
                           ->group("Collectors"));
    AddCollectorFlags(app, spec, bound);
  }
  const ForeignFlags foreign(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return {std::nullopt, code == 0 ? 0 : 1};
  }
  try {
    for (const auto& b : bound) {
      cfg.collector_options[b.flag->name] =
          b.on ? FlagValue(*b.on) : ParseFlagValue(b.flag->type, b.flag->name, *b.text);
    }
  } catch (const ConfigError& e) {
    std::cerr << e.what() << "\n";
    return {std::nullopt, 1};
  }
  ParseGoDuration(agent_interval, cfg.lb_agent_interval);  // checked by DurationRange
  ParseGoDuration(agent_timeout, cfg.lb_agent_timeout);
  if (!cfg.lb_agent_address.empty() && cfg.lb_agent_domain.empty()) {
    std::cerr << "--lb-agent.domain is required with --lb-agent.listen-address\n";
    return {std::nullopt, 1};
  }
  if (cfg.listen_addresses.empty()) {
    std::cerr << "--web.listen-address: at least one address is needed\n";
    return {std::nullopt, 1};
  }
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const bool explicit_flag = switches[i]->count() > 0;
    const bool on = disable_defaults ? (explicit_flag && *storage[i]) : *storage[i];
    if (on) cfg.enabled_collectors.push_back(specs[i].name);
  }

  cfg.warnings = foreign.Warnings();
  auto given = [&](const std::string& flag) { return app.get_option(flag)->count() > 0; };
  for (const auto& b : bound) {
    // Our own flags documented as no-ops or not implemented: say so when they ask for something.
    const std::string& n = b.flag->name;
    const bool asked = b.on && *b.on;
    if (asked && (n == "collector.cpu.info" || n == "collector.stat.softirq" || n == "collector.netdev.address-info" ||
                  n == "collector.netdev.enable-detailed-metrics")) {
      cfg.warnings.push_back("--" + n + " is not implemented by xmppwatch_exporter; ignored");
    }
  }
  if (cfg.systemd_socket) {
    cfg.warnings.push_back("--web.systemd-socket is not implemented; listening on --web.listen-address instead");
  }
  if (given("--runtime.gomaxprocs")) cfg.warnings.push_back("--runtime.gomaxprocs has no effect (no Go runtime)");
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
