// The exporter binary on bad input, on SIGTERM and SIGINT (mid-scrape too), and with
// node_exporter's top-level flags.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <thread>

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
                    "--collector.filesystem.mount-timeout: expected a duration");
  ExpectFailsNaming({"--collector.filesystem.mount-timeout=0s", "--web.listen-address=127.0.0.1:0"},
                    "mount-timeout must be positive");
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

// node_exporter's top-level flags that used to exit 1: accepted, and the ones that can apply
// are honoured (the rest are warned about in the log).
TEST(ExporterBinary, NodeExporterTopLevelFlags) {
  const int second_port = FreePort();
  auto e = StartOurs({"--collector.disable-defaults", "--collector.loadavg", "--log.format=logfmt",
                      "--web.disable-exporter-metrics", "--web.max-requests=2", "--web.systemd-socket",
                      "--runtime.gomaxprocs=2", "--collector.filesystem.mount-timeout=1m30s",
                      "--web.listen-address=127.0.0.1:" + std::to_string(second_port)});
  const std::string text = e->Scrape();
  EXPECT_NE(text.find("node_load1 "), std::string::npos) << text;
  EXPECT_EQ(text.find("process_"), std::string::npos) << text;  // --web.disable-exporter-metrics
  EXPECT_NE(text.find("xmppwatch_exporter_build_info"), std::string::npos);
  EXPECT_NE(text.find("xmppwatch_exporter_invalid_utf8_series_total{collector=\"loadavg\"} 0"), std::string::npos);
  // Both --web.listen-address values answer.
  EXPECT_NE(HttpGet("127.0.0.1", second_port, "/metrics").find("node_load1 "), std::string::npos);
  EXPECT_NE(e->process->Log().find("--web.systemd-socket is not implemented"), std::string::npos) << e->process->Log();
  // Without the flag, process_* is there.
  auto plain = StartOurs({"--collector.disable-defaults", "--collector.loadavg"});
  EXPECT_NE(plain->Scrape().find("process_resident_memory_bytes"), std::string::npos);
}

// A scrape that takes seconds (a textfile directory with large files), then a stop signal
// while it runs: the exporter exits 0 soon after, without waiting for the scrape. The bound
// is a hang guard, not a timing claim: these machines are noisy. So is the scrape's length:
// when it ends before the signal (a fast moment of the machine), the attempt is made again
// with a file twice as large, up to three times; only then is "not mid-scrape" a failure.
void StopsMidScrape(int signal_number, const char* name) {
  int lines = 150000;  // about 6 MiB: some 2 s of parsing on the 2-core test machine
  for (int attempt = 1; attempt <= 3; ++attempt, lines *= 2) {
    TempDir dir;
    std::FILE* out = std::fopen((dir.path + "/big.prom").c_str(), "w");
    ASSERT_NE(out, nullptr);
    std::fprintf(out, "# TYPE big gauge\n");
    for (int i = 0; i < lines; ++i) std::fprintf(out, "big{i=\"%d\",pad=\"xxxxxxxxxx\"} %d\n", i, i);
    std::fclose(out);
    auto e = StartOurs(
        {"--collector.disable-defaults", "--collector.textfile", "--collector.textfile.directory=" + dir.path});
    std::atomic<bool> scrape_done{false};
    std::thread scraper([&] {
      try {
        (void)e->Scrape();
      } catch (const std::exception&) {
        // The connection closes when the exporter exits: expected.
      }
      scrape_done = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const bool mid_scrape = !scrape_done.load();
    if (!mid_scrape && attempt < 3) {
      scraper.join();
      std::printf("%s: the scrape of %d lines ended within 300 ms; again with %d\n", name, lines, lines * 2);
      continue;
    }
    const auto start = std::chrono::steady_clock::now();
    ASSERT_EQ(::kill(e->process->pid(), signal_number), 0);
    while (e->process->Running() && std::chrono::steady_clock::now() - start < std::chrono::seconds(10)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    const bool exited = !e->process->Running();
    const int code = e->process->Stop(std::chrono::seconds(1));  // the status; kills a hung process
    scraper.join();
    std::printf("%s %s: exporter exited %.3f s after the signal (code %d)\n", name,
                mid_scrape ? "mid-scrape" : "after the scrape", took.count(), code);
    EXPECT_TRUE(mid_scrape) << "three scrapes, up to " << lines << " lines, each finished within 300 ms";
    EXPECT_TRUE(exited) << "still running 10 s after " << name << "\n" << e->process->Log();
    EXPECT_EQ(code, 0) << e->process->Log();
    EXPECT_NE(e->process->Log().find("shutting down"), std::string::npos) << e->process->Log();
    return;
  }
}

// SIGHUP re-reads the web config: basic auth switched on takes effect without a restart, and a
// broken file leaves the running configuration in force (and the daemon up).
TEST(ExporterBinary, SighupReloadsTheWebConfig) {
  TempDir dir;
  const std::string web = dir.path + "/web.yml";
  std::ofstream(web) << "{}\n";
  auto e = StartOurs({"--web.config.file=" + web, "--collector.disable-defaults", "--collector.loadavg"});
  EXPECT_NE(HttpGet("127.0.0.1", e->port, "/metrics").find("node_load1 "), std::string::npos);
  auto rewrite = [&](const std::string& text) {
    std::ofstream(web + ".new") << text;
    std::rename((web + ".new").c_str(), web.c_str());
    kill(e->process->pid(), SIGHUP);
  };
  auto answers_401 = [&] {
    for (int i = 0; i < 100; ++i) {  // the reload is asynchronous: poll, bounded
      try {
        HttpGet("127.0.0.1", e->port, "/metrics");
      } catch (const std::exception& err) {
        if (std::string(err.what()).find("401") != std::string::npos) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  };
  rewrite("basic_auth_users:\n  prom: $2b$10$hNf2lSsxfm0.i4a.1kVpSOVyBCfIB51VRjgBUyv6kdnyTlgWj81Ay\n");
  EXPECT_TRUE(answers_401()) << e->process->Log();
  rewrite("tls_server_config:\n  cert_file: only-a-cert.pem\n");
  for (int i = 0; i < 100 && e->process->Log().find("web config not reloaded") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(e->process->Log().find("web config not reloaded"), std::string::npos) << e->process->Log();
  EXPECT_TRUE(e->process->Running());
  EXPECT_TRUE(answers_401()) << "the broken file replaced the running configuration";
  EXPECT_EQ(e->process->Stop(std::chrono::seconds(10)), 0);
}

TEST(ExporterBinary, SigtermMidScrapeExitsZero) {
  StopsMidScrape(SIGTERM, "SIGTERM");
}
TEST(ExporterBinary, SigintMidScrapeExitsZero) {
  StopsMidScrape(SIGINT, "SIGINT");
}

}  // namespace
}  // namespace xw::testing
