#include "daemon/options.h"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace xp {

std::string ResolveRunDir(const CommonOptions& o) {
  if (!o.run_dir.empty()) return o.run_dir;
  if (const char* env = std::getenv("XMPPWATCH_RUN_DIR"); env && *env) return env;
  // build/xmpp_probe/xmpp_probe -> <repo>/run, where server/stack keeps its state by default.
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) return (exe.parent_path().parent_path().parent_path() / "run").string();
  return "run";
}

ProbeConfig LoadProbeConfig(const CommonOptions& o) {
  if (!o.config_file.empty()) return LoadConfig(o.config_file);
  return ParseConfig(DefaultConfigYaml(ResolveRunDir(o), o.domain), "built-in stack config");
}

const ModuleConfig& FindModule(const ProbeConfig& cfg, const std::string& name) {
  auto it = cfg.modules.find(name);
  if (it == cfg.modules.end()) {
    std::string known;
    for (const auto& [n, m] : cfg.modules) known += (known.empty() ? "" : ", ") + n;
    throw std::runtime_error("unknown module '" + name + "' (configured: " + known + ")");
  }
  return it->second;
}

}  // namespace xp
