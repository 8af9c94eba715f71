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
  double warning = 0;  // seconds; 0 disables
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
  // Launcher arguments that inject the fault and undo it; empty: "kill VICTIM SIGNAL" and
  // "start VICTIM". The fault matrix (server/stack validate) passes its own, e.g.
  // "fault partition on" / "fault partition off".
  std::string fault;
  std::string restore;
  std::string signal = "KILL";
  double warmup = 3, max_outage = 30, settle = 3;
  // > 0: undo the fault this long after injecting it, recovered or not (a hang held for 20 s,
  // a database kept down long enough for its alert, a load balancer that must come back).
  double restore_after = 0;
  // Traffic kept running after the fault is undone, so a failback's cost is counted too.
  double after_restore = 0;
  // Also undo the fault as soon as a line "restore" arrives on standard input: the fault
  // matrix holds a fault until the alerts it expects have fired, which no fixed hold knows.
  bool restore_on_stdin = false;
  bool json = false;
};
// Injects a fault through the launcher under two live sessions exchanging numbered messages,
// measures, undoes it, prints the report. Returns 0 when the service came back and no
// acknowledged message was lost. With --victim none it only measures (a baseline).
int Drill(const DrillOptions& opts);

}  // namespace xp
