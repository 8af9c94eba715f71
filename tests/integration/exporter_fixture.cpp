#include "exporter_fixture.h"

#include <stdexcept>

namespace xw::testing {

std::vector<std::string> CollectorFlags() {
  std::vector<std::string> flags{"--collector.disable-defaults"};
  for (const auto& c : kSharedCollectors) flags.push_back("--collector." + c);
  return flags;
}

namespace {

std::unique_ptr<RunningExporter> Start(std::vector<std::string> argv, const std::string& name) {
  auto e = std::make_unique<RunningExporter>();
  e->port = FreePort();
  argv.push_back("--web.listen-address=127.0.0.1:" + std::to_string(e->port));
  e->process = std::make_unique<Subprocess>(argv, e->dir.path + "/" + name + ".log");
  if (!WaitForHttp("127.0.0.1", e->port, "/metrics")) {
    throw std::runtime_error(name + " did not come up; log:\n" + e->process->Log());
  }
  return e;
}

}  // namespace

std::unique_ptr<RunningExporter> StartOurs(std::vector<std::string> extra_flags) {
  std::vector<std::string> argv{XMPPWATCH_EXPORTER_BIN};
  for (auto& f : extra_flags) argv.push_back(std::move(f));
  return Start(std::move(argv), "xmppwatch_exporter");
}

std::unique_ptr<RunningExporter> StartNodeExporter(std::vector<std::string> extra_flags) {
  std::vector<std::string> argv{"prometheus-node-exporter"};
  for (auto& f : extra_flags) argv.push_back(std::move(f));
  return Start(std::move(argv), "node_exporter");
}

std::map<std::string, ParsedFamily> ByName(const std::string& exposition) {
  std::map<std::string, ParsedFamily> out;
  for (auto& f : ParseExposition(exposition)) out.emplace(f.name, std::move(f));
  return out;
}

}  // namespace xw::testing
