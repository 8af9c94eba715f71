#pragma once

#include <string>

#include "daemon/options.h"

namespace xp {

struct ServeOptions {
  CommonOptions common;
  std::string listen_address = "127.0.0.1:9815";
  std::string web_config_file;
  bool continuous = true;  // run modules marked continuous (failover)
};

// Runs until SIGINT/SIGTERM. Throws on configuration errors (the caller prints them).
int Serve(const ServeOptions& opts);

struct CheckOptions {
  CommonOptions common;
  std::string module = "login";
  std::string target;
  double warning = 0;   // seconds; 0 disables
  double critical = 0;
  bool verbose = false;
};
// Monitoring-plugin contract: prints one line, returns 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
int Check(const CheckOptions& opts);

struct DrillOptions {
  CommonOptions common;
  std::string module = "drill";
  std::string target;
  std::string stack = "server/stack";  // the launcher
  std::string victim = "ej1";
  double warmup = 3, max_outage = 30, settle = 3;
  double restart_after = 0;  // > 0: restart the victim this long after the kill, recovered or not
  bool json = false;
};
// Kills the primary through the launcher, measures, restarts it, prints the report.
// Returns 0 when the service came back and no acknowledged message was lost.
int Drill(const DrillOptions& opts);

}  // namespace xp
