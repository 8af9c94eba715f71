// Command-line flags, in node_exporter's names, parsed into one config value.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "collector.h"
#include "http_server.h"

namespace xw::exporter {

struct ExporterConfig {
  // Repeatable, as in node_exporter 1.5: one listener each, all serving the same handlers.
  std::vector<std::string> listen_addresses{":9100"};
  std::string telemetry_path = "/metrics";
  std::string web_config_file;
  bool disable_exporter_metrics = false;  // leaves out process_*
  int max_requests = 40;                  // scrapes in flight at once; more get 503; 0 = no cap
  bool systemd_socket = false;            // accepted, not implemented (a warning at start)
  int web_workers = 1;
  int scrape_threads = 1;
  std::string log_level = "info";
  std::string log_format = "logfmt";
  int gomaxprocs = 1;  // accepted for node_exporter's command lines; no Go runtime here
  Paths paths;
  std::vector<std::string> enabled_collectors;  // sorted
  // Every declared collector flag, typed (collector.h), default or given.
  std::map<std::string, FlagValue> collector_options;
  // Said at start, once logging is set up: flags accepted for node_exporter compatibility
  // that have no effect here.
  std::vector<std::string> warnings;
  // HAProxy agent-check (lb_agent/lb_agent.h); off while the address is empty.
  std::string lb_agent_address;
  std::string lb_agent_api_url = "http://127.0.0.1:5280/api";
  std::string lb_agent_domain;
  std::string lb_agent_user = "xmppwatch-lb-agent";
  std::chrono::nanoseconds lb_agent_interval = std::chrono::milliseconds(250);
  std::chrono::nanoseconds lb_agent_timeout = std::chrono::seconds(1);
};

// Parses argv. Returns the config, or an exit code when the program should stop now
// (--help and --version give 0 after printing; a bad flag gives 1 after naming it on stderr).
struct ParseOutcome {
  std::optional<ExporterConfig> config;
  int exit_code = 0;
};
ParseOutcome ParseFlags(int argc, char** argv);

// Instantiates the enabled collectors; throws ConfigError naming the collector.
std::vector<std::pair<std::string, std::unique_ptr<Collector>>> MakeCollectors(const ExporterConfig& config);

}  // namespace xw::exporter
