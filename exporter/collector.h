// The collector pattern, after node_exporter: each collector is small, owns one concern
// (usually one /proc or /sys file), registers itself in the catalog with its name, whether it
// is on by default and its own flags, and produces its metric families at scrape time.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "flag_value.h"

namespace xw::exporter {

// Filesystem roots, so tests can point collectors at fixture trees.
struct Paths {
  std::string procfs = "/proc";
  std::string sysfs = "/sys";
  std::string rootfs = "/";
  std::string udev_data = "/run/udev/data";

  std::string Proc(const std::string& rel) const { return procfs + "/" + rel; }
  std::string Sys(const std::string& rel) const { return sysfs + "/" + rel; }
  // Maps a path seen inside the host (a mount point) to where it is under --path.rootfs.
  std::string Root(const std::string& abs) const;
};

// What a collector gets at construction: the roots and the values of its own flags, typed
// as the collector declared them (ParseFlags converts the command line). A value may also be
// held as its command-line text (tests and benchmarks fill the map with the declared
// defaults): the typed accessors then parse it, with the same errors as the command line.
struct CollectorContext {
  Paths paths;
  std::map<std::string, FlagValue> options;  // full flag name without "--" -> value

  // kString or kRegex flags. Each throws std::out_of_range for a flag nobody declared and
  // ConfigError naming the flag for a value of the wrong type.
  const std::string& Option(const std::string& flag) const;
  bool BoolOption(const std::string& flag) const;
  std::chrono::nanoseconds DurationOption(const std::string& flag) const;
  std::int64_t IntOption(const std::string& flag) const;
};

// A collector's Collect() may throw: the scrape catches it, logs it, reports
// node_scrape_collector_success{collector=...} 0 and serves every other collector.
// Collect() may be called from several scrapes at once: guard any state it keeps.
class Collector : public prometheus::Collectable {
 public:
  // Asked before each Collect(): why this host has no source for the collector (no
  // /proc/mdstat, no /sys/class/hwmon), or empty. A collector whose source is often absent
  // says so here, so the scrape skips it without a NoDataError: a thrown exception costs
  // microseconds and keeps the binary's unwind tables (about 300 KiB) resident. Collect()
  // still throws NoDataError when the source goes away in between.
  virtual std::string NoSource() const { return {}; }
};

// "<path> does not exist": what NoSource() and a NoDataError say of a missing source.
std::string DoesNotExist(const std::string& path);
// For NoSource(): DoesNotExist(path) when it does not, else empty.
std::string Missing(const std::string& path);

// Thrown by a collector whose source does not exist on this host (no /proc/mdstat, no
// /sys/class/hwmon, conntrack not loaded). node_exporter's ErrNoData: success is 0 as there,
// but it is logged at debug level only, since nothing is wrong.
struct NoDataError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A flag a collector declares. The default is written as on the command line ("5s", "true").
struct CollectorFlag {
  std::string name;  // e.g. "collector.filesystem.mount-timeout"
  std::string default_value;
  std::string help;
  FlagType type = FlagType::kString;
  // Older names that set the same value (node_exporter's hidden, deprecated spellings).
  std::vector<std::string> aliases = {};
};

inline CollectorFlag StringFlag(std::string name, std::string def, std::string help) {
  return {std::move(name), std::move(def), std::move(help), FlagType::kString};
}
inline CollectorFlag RegexFlag(std::string name, std::string def, std::string help,
                               std::vector<std::string> aliases = {}) {
  return {std::move(name), std::move(def), std::move(help), FlagType::kRegex, std::move(aliases)};
}
inline CollectorFlag BoolFlag(std::string name, bool def, std::string help) {
  return {std::move(name), def ? "true" : "false", std::move(help), FlagType::kBool};
}
inline CollectorFlag DurationFlag(std::string name, std::string def, std::string help) {
  return {std::move(name), std::move(def), std::move(help), FlagType::kDuration};
}
inline CollectorFlag IntFlag(std::string name, std::int64_t def, std::string help) {
  return {std::move(name), std::to_string(def), std::move(help), FlagType::kInt};
}

struct CollectorSpec {
  std::string name;
  bool enabled_by_default = true;
  std::string help;
  std::vector<CollectorFlag> flags;
  // Throws ConfigError when a flag value is invalid.
  std::function<std::unique_ptr<Collector>(const CollectorContext&)> make;
};

// The process-wide catalog of collectors, filled by static registrars before main().
class CollectorCatalog {
 public:
  static CollectorCatalog& Instance();
  void Add(CollectorSpec spec);
  // Sorted by name.
  const std::vector<CollectorSpec>& specs() const { return specs_; }
  const CollectorSpec* Find(const std::string& name) const;

 private:
  std::vector<CollectorSpec> specs_;
};

struct CollectorRegistrar {
  explicit CollectorRegistrar(CollectorSpec spec) { CollectorCatalog::Instance().Add(std::move(spec)); }
};

}  // namespace xw::exporter
