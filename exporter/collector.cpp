#include "collector.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "web_config.h"

namespace xw::exporter {

std::string Paths::Root(const std::string& abs) const {
  if (rootfs.empty() || rootfs == "/") return abs;
  return rootfs + abs;
}

namespace {

// The value as type T, parsing it when it is still command-line text.
template <typename T>
T Typed(const std::map<std::string, FlagValue>& options, const std::string& flag, FlagType type) {
  const FlagValue& v = options.at(flag);
  if (const T* t = std::get_if<T>(&v)) return *t;
  if (const auto* text = std::get_if<std::string>(&v)) return std::get<T>(ParseFlagValue(type, flag, *text));
  throw ConfigError("--" + flag + " is not a " + FlagTypeName(type) + " flag");
}

}  // namespace

const std::string& CollectorContext::Option(const std::string& flag) const {
  const FlagValue& v = options.at(flag);
  if (const auto* text = std::get_if<std::string>(&v)) return *text;
  throw ConfigError("--" + flag + " is not a string flag");
}

bool CollectorContext::BoolOption(const std::string& flag) const {
  return Typed<bool>(options, flag, FlagType::kBool);
}

std::chrono::nanoseconds CollectorContext::DurationOption(const std::string& flag) const {
  return Typed<std::chrono::nanoseconds>(options, flag, FlagType::kDuration);
}

std::int64_t CollectorContext::IntOption(const std::string& flag) const {
  return Typed<std::int64_t>(options, flag, FlagType::kInt);
}

std::string DoesNotExist(const std::string& path) {
  return path + " does not exist";
}

std::string Missing(const std::string& path) {
  if (::access(path.c_str(), F_OK) == 0 || (errno != ENOENT && errno != ENOTDIR)) return {};
  return DoesNotExist(path);
}

CollectorCatalog& CollectorCatalog::Instance() {
  static CollectorCatalog catalog;
  return catalog;
}

void CollectorCatalog::Add(CollectorSpec spec) {
  const auto pos = std::lower_bound(specs_.begin(), specs_.end(), spec.name,
                                    [](const CollectorSpec& s, const std::string& n) { return s.name < n; });
  specs_.insert(pos, std::move(spec));
}

const CollectorSpec* CollectorCatalog::Find(const std::string& name) const {
  for (const auto& s : specs_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

}  // namespace xw::exporter
