// Command-line flags, in node_exporter's names, parsed into one config value.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "collector.h"
#include "http_server.h"

namespace xw::exporter {

struct ExporterConfig {
  std::string listen_address = ":9100";
  std::string telemetry_path = "/metrics";
  std::string web_config_file;
  int web_workers = 1;
  int scrape_threads = 1;
  std::string log_level = "info";
  Paths paths;
  std::vector<std::string> enabled_collectors;  // sorted
  std::map<std::string, std::string> collector_options;
  // HAProxy agent-check (lb_agent/lb_agent.h); off while the address is empty.
  std::string lb_agent_address;
  std::string lb_agent_api_url = "http://127.0.0.1:5280/api";
  std::string lb_agent_domain;
  std::string lb_agent_user = "xmppwatch-lb-agent";
  double lb_agent_interval = 0.25;
  double lb_agent_timeout = 1.0;
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
