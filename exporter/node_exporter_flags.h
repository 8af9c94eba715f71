// node_exporter 1.5's flags for collectors this exporter does not have. They are accepted, so
// a node_exporter command line (a systemd unit, /etc/default/prometheus-node-exporter) starts
// this exporter unchanged; each one given explicitly is named in a warning at start, since it
// has no effect here.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

namespace xw::exporter {

class ForeignFlags {
 public:
  // Adds the flags to `app`, skipping collectors the catalog has (those are ours).
  explicit ForeignFlags(CLI::App& app);
  // After parsing: one warning per flag that was given.
  std::vector<std::string> Warnings() const;

 private:
  struct Flag {
    std::string name;
    bool is_switch = false;  // --collector.<name> / --no-collector.<name>
    CLI::Option* option = nullptr;
    const bool* on = nullptr;  // switches: --no-collector.<name> needs no warning
  };
  std::vector<Flag> flags_;
  // Storage CLI11 writes to; the values are never read.
  std::vector<std::unique_ptr<bool>> bools_;
  std::vector<std::unique_ptr<std::vector<std::string>>> strings_;
};

}  // namespace xw::exporter
