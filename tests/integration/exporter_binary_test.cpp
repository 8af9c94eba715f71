// The exporter binary on bad input and on SIGTERM.
#include <gtest/gtest.h>

#include <fstream>

#include "exporter_fixture.h"

namespace xw::testing {
namespace {

void ExpectFailsNaming(const std::vector<std::string>& args, const std::string& needle) {
  std::vector<std::string> argv{XMPPWATCH_EXPORTER_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = RunCommand(argv, std::chrono::seconds(20));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(needle), std::string::npos) << "output does not name '" << needle << "':\n" << r.output;
}

TEST(ExporterBinary, BadInputExitsNonZeroNamingTheProblem) {
  TempDir dir;
  ExpectFailsNaming({"--web.listen-adress=:1"}, "--web.listen-adress");
  ExpectFailsNaming({"--no-collector.nonesuch"}, "--no-collector.nonesuch");
  ExpectFailsNaming({"--web.listen-address=127.0.0.1"}, "has no port");
  ExpectFailsNaming({"--web.config.file=" + dir.path + "/missing.yml"}, dir.path + "/missing.yml");
  std::ofstream(dir.path + "/bad.yml") << "tls_server_config:\n  cert_file: a.pem\n";
  ExpectFailsNaming({"--web.config.file=" + dir.path + "/bad.yml"}, "needs both cert_file and key_file");
  ExpectFailsNaming({"--collector.filesystem.mount-timeout=soon", "--web.listen-address=127.0.0.1:0"},
                    "mount-timeout");
}

TEST(ExporterBinary, BusyPortIsReportedWithTheAddress) {
  auto first = StartOurs();
  ExpectFailsNaming({"--web.listen-address=127.0.0.1:" + std::to_string(first->port)},
                    "127.0.0.1:" + std::to_string(first->port));
}

TEST(ExporterBinary, VersionAndHelp) {
  auto v = RunCommand({XMPPWATCH_EXPORTER_BIN, "--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(v.output.find("xmppwatch_exporter, version"), std::string::npos);
  auto h = RunCommand({XMPPWATCH_EXPORTER_BIN, "--help"});
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.output.find("--no-collector.cpu"), std::string::npos) << h.output;
}

TEST(ExporterBinary, StopsCleanlyOnSigtermWithIdleClientsConnected) {
  auto e = StartOurs();
  for (int i = 0; i < 4; ++i) (void)HttpGet("127.0.0.1", e->port, "/metrics");
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(e->process->Stop(std::chrono::seconds(10)), 0) << e->process->Log();
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  std::printf("exporter stopped %.3f s after SIGTERM\n", took.count());
  EXPECT_NE(e->process->Log().find("shutting down"), std::string::npos);
}

}  // namespace
}  // namespace xw::testing
