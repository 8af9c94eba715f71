// xmpp_probe: the daemon (default), `check` (monitoring plugin), `drill` (failover
// rehearsal), `load` (load generator) and `config` (print the effective configuration).
#include <CLI/CLI.hpp>

#include <csignal>
#include <iostream>
#include <stdexcept>
#include <utility>

#include "daemon/serve.h"
#include "load/load.h"
#include "log.h"

namespace {

void AddCommon(CLI::App& app, xp::CommonOptions& o) {
  app.add_option("--config.file", o.config_file,
                 "Module configuration (YAML); default: built-in config for server/stack");
  app.add_option("--stack.run-dir", o.run_dir, "server/stack run directory (secrets/, tls/) for the built-in config");
  app.add_option("--xmpp.domain", o.domain, "XMPP domain for the built-in config")->capture_default_str();
  app.add_option("--log.level", o.log_level, "debug, info, warn, error")->capture_default_str();
}

// Flags written before a subcommand are parsed by the top-level app, the daemon's. Someone
// writing `xmpp_probe --config.file F check` means them for `check`: without this, check
// silently probed with the built-in configuration.
void Inherit(const CLI::App& top, const CLI::App& sub, const xp::CommonOptions& from, xp::CommonOptions& to) {
  auto take = [&](const char* name, const std::string& src, std::string& dst) {
    if (top.count(name) == 0) return;
    if (sub.count(name) > 0 && dst != src) {
      throw std::runtime_error(std::string(name) + " given before and after '" + sub.get_name() +
                               "' with different values");
    }
    dst = src;
  };
  take("--config.file", from.config_file, to.config_file);
  take("--stack.run-dir", from.run_dir, to.run_dir);
  take("--xmpp.domain", from.domain, to.domain);
  take("--log.level", from.log_level, to.log_level);
  for (const char* daemon_only : {"--web.listen-address", "--web.config.file", "--no-continuous"}) {
    if (top.count(daemon_only) > 0) {
      throw std::runtime_error(std::string(daemon_only) + " is a flag of the daemon; '" + sub.get_name() +
                               "' does not take it");
    }
  }
}

}  // namespace

static int Main(int argc, char** argv) {
  // A peer that resets a TLS connection must cost a failed write, not the process: OpenSSL
  // writes with write(2), which raises SIGPIPE (load mode lost a 10,000-session run to it).
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"xmpp_probe: synthetic XMPP client that measures what users feel"};
  app.require_subcommand(0, 1);

  xp::ServeOptions serve;
  AddCommon(app, serve.common);
  app.add_option("--web.listen-address", serve.listen_address, "Address for /probe and /metrics")
      ->capture_default_str();
  app.add_option("--web.config.file", serve.web_config_file, "Exporter-toolkit web config (TLS, basic auth)");
  app.add_flag("!--no-continuous", serve.continuous, "Do not run continuous (failover) modules");

  xp::CheckOptions check;
  auto* check_cmd = app.add_subcommand("check", "Run one probe; monitoring-plugin output and exit code");
  AddCommon(*check_cmd, check.common);
  check_cmd->add_option("--module", check.module, "Module to run")->capture_default_str();
  check_cmd->add_option("--target", check.target, "host:port (default: the module's)");
  check_cmd->add_option("-w,--warning", check.warning, "WARNING when slower than this many seconds");
  check_cmd->add_option("-c,--critical", check.critical, "CRITICAL when slower than this many seconds");
  check_cmd->add_flag("-v,--verbose", check.verbose, "Also print the probe's metrics");

  xp::DrillOptions drill;
  auto* drill_cmd =
      app.add_subcommand("drill", "Inject a fault via the launcher under live sessions, measure, undo it, report");
  AddCommon(*drill_cmd, drill.common);
  drill_cmd->add_option("--module", drill.module, "Failover module")->capture_default_str();
  drill_cmd->add_option("--target", drill.target, "host:port of the load balancer (default: the module's)");
  drill_cmd->add_option("--stack", drill.stack, "The stack launcher")->capture_default_str();
  drill_cmd->add_option("--victim", drill.victim, "Component to kill")->capture_default_str();
  drill_cmd->add_option("--warmup", drill.warmup, "Seconds of steady state before the kill")->capture_default_str();
  drill_cmd->add_option("--max-outage", drill.max_outage, "Give up waiting for recovery after this")
      ->capture_default_str();
  drill_cmd->add_option("--settle", drill.settle, "Seconds to wait after recovery and after restart")
      ->capture_default_str();
  drill_cmd->add_option("--fault", drill.fault,
                        "Launcher arguments that inject the fault (default: kill VICTIM SIGNAL)");
  drill_cmd->add_option("--restore", drill.restore, "Launcher arguments that undo it (default: start VICTIM)");
  drill_cmd->add_option("--signal", drill.signal, "Signal for the default fault (KILL, STOP, TERM)")
      ->capture_default_str();
  drill_cmd->add_option("--restore-after,--restart-after", drill.restore_after,
                        "Undo the fault this many seconds after it, recovered or not (0: once recovered)");
  drill_cmd
      ->add_option("--after-restore", drill.after_restore,
                   "Seconds of traffic kept after the fault is undone (failback cost)")
      ->capture_default_str();
  drill_cmd->add_flag("--restore-on-stdin", drill.restore_on_stdin,
                      "Also undo the fault when a line 'restore' arrives on standard input");
  drill_cmd->add_flag("--json", drill.json, "Print the report as one JSON object");

  xp::LoadOptions load;
  auto* load_cmd = app.add_subcommand("load", "Load mode: N sessions sending messages (loopback targets only)");
  AddCommon(*load_cmd, load.common);
  xp::AddLoadFlags(*load_cmd, load);

  xp::CommonOptions print;
  auto* config_cmd = app.add_subcommand("config", "Print the effective module configuration and exit");
  AddCommon(*config_cmd, print);

  CLI11_PARSE(app, argc, argv);
  try {
    const std::pair<CLI::App*, xp::CommonOptions*> subcommands[] = {
        {check_cmd, &check.common}, {drill_cmd, &drill.common}, {load_cmd, &load.common}, {config_cmd, &print}};
    for (auto [cmd, common] : subcommands) {
      if (*cmd) Inherit(app, *cmd, serve.common, *common);
    }
    for (auto* o : {&serve.common, &check.common, &drill.common, &load.common, &print}) {
      if (o->log_level != "info") xw::log::SetLevel(xw::log::ParseLevel(o->log_level));
    }
    if (*check_cmd) return xp::Check(check);
    if (*drill_cmd) return xp::Drill(drill);
    if (*load_cmd) return xp::RunLoad(load);
    if (*config_cmd) {
      if (!print.config_file.empty()) {
        xp::LoadConfig(print.config_file);
        std::cout << "config OK: " << print.config_file << "\n";
      } else {
        std::cout << xp::DefaultConfigYaml(xp::ResolveRunDir(print), print.domain);
      }
      return 0;
    }
    return xp::Serve(serve);
  } catch (const std::exception& e) {
    xw::log::Error("fatal", {{"err", e.what()}});
    return 1;
  }
}

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {  // CLI11 and iostreams can throw outside Main's own handler
    std::cerr << "xmpp_probe: fatal: " << e.what() << "\n";
    return 1;
  }
}
