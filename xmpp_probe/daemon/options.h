// Options every subcommand shares: where the module config comes from. Without
// --config.file the probe runs the built-in configuration for the local stack (server/stack),
// reading its CA and account password files from the stack's run directory.
#pragma once

#include <string>

#include "probe/config.h"

namespace xp {

struct CommonOptions {
  std::string config_file;
  std::string run_dir;  // empty: $XMPPWATCH_RUN_DIR, else <repo>/run next to the build dir
  std::string domain = "xmpp.test";
  std::string log_level = "info";
};

std::string ResolveRunDir(const CommonOptions& o);
// Throws std::runtime_error naming the file and problem.
ProbeConfig LoadProbeConfig(const CommonOptions& o);
const ModuleConfig& FindModule(const ProbeConfig& cfg, const std::string& name);

}  // namespace xp
