#include "probe/target_policy.h"

#include <cctype>

namespace xp {

namespace {

bool Match(const char* p, const char* t) {
  for (; *p; ++p, ++t) {
    if (*p == '*') {
      // Try every split of the run of non-':' characters at this point.
      for (const char* s = t;; ++s) {
        if (Match(p + 1, s)) return true;
        if (*s == '\0' || *s == ':') return false;
      }
    }
    if (*t == '\0') return false;
    if (*p == '?') {
      if (*t == ':') return false;
      continue;
    }
    if (std::tolower(static_cast<unsigned char>(*p)) != std::tolower(static_cast<unsigned char>(*t))) return false;
  }
  return *t == '\0';
}

}  // namespace

bool TargetPatternMatches(const std::string& pattern, const std::string& target) {
  // Stars are few in any sane pattern; bound the backtracking a hostile query could cause.
  if (target.size() > 512 || pattern.size() > 512) return false;
  return Match(pattern.c_str(), target.c_str());
}

std::optional<std::string> TargetRefusal(const ModuleConfig& module, const std::string& target) {
  if (target.empty() || target == module.target) return std::nullopt;
  for (const auto& pattern : module.allowed_targets) {
    if (TargetPatternMatches(pattern, target)) return std::nullopt;
  }
  std::string why = "target '" + target + "' is not allowed for module '" + module.name + "': ";
  why += module.target.empty() ? "the module has no target" : "its target is " + module.target;
  why +=
      module.allowed_targets.empty() ? " and it has no allowed_targets" : " and it matches none of its allowed_targets";
  return why + " (add a pattern to allowed_targets in the module's configuration to probe it)";
}

}  // namespace xp
