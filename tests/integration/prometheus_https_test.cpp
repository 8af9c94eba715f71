// Prometheus itself scrapes the exporter over HTTPS with basic auth (right and wrong password).
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "basic_auth.h"
#include "exporter_fixture.h"
#include "tls_files.h"

namespace xw::testing {
namespace {

TEST(PrometheusScrape, OverHttpsWithBasicAuth) {
  TempDir dir;
  TlsFiles tls;
  std::ofstream(dir.path + "/web.yml") << "tls_server_config:\n  cert_file: " << tls.cert.string()
                                       << "\n  key_file: " << tls.key.string()
                                       << "\nbasic_auth_users:\n  prometheus: " << BcryptHash("s3cret", 6) << "\n";
  std::ofstream(dir.path + "/pw") << "s3cret";
  std::ofstream(dir.path + "/wrong") << "nope";

  const int exporter_port = FreePort();
  Subprocess exporter({XMPPWATCH_EXPORTER_BIN, "--web.listen-address=127.0.0.1:" + std::to_string(exporter_port),
                       "--web.config.file=" + dir.path + "/web.yml"},
                      dir.path + "/exporter.log");

  auto job = [&](const std::string& name, const std::string& pw) {
    return "  - job_name: " + name + "\n    scheme: https\n    tls_config:\n      ca_file: " + tls.cert.string() +
           "\n    basic_auth:\n      username: prometheus\n      password_file: " + dir.path + "/" + pw +
           "\n    static_configs:\n      - targets: ['127.0.0.1:" + std::to_string(exporter_port) + "']\n";
  };
  std::ofstream(dir.path + "/prometheus.yml") << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                                              << "scrape_configs:\n"
                                              << job("good", "pw") << job("bad", "wrong");
  const int prom_port = FreePort();
  Subprocess prometheus(
      {"prometheus", "--config.file=" + dir.path + "/prometheus.yml", "--storage.tsdb.path=" + dir.path + "/data",
       "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
      dir.path + "/prometheus.log");
  ASSERT_TRUE(WaitForHttp("127.0.0.1", prom_port, "/-/ready", std::chrono::seconds(30))) << prometheus.Log();

  // Bounded wait for both targets to have been scraped at least once.
  std::string targets;
  for (int i = 0; i < 100; ++i) {
    targets = HttpGet("127.0.0.1", prom_port, "/api/v1/targets");
    if (targets.find("\"health\":\"up\"") != std::string::npos &&
        targets.find("\"health\":\"down\"") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_NE(targets.find("\"health\":\"up\""), std::string::npos) << targets << exporter.Log();
  EXPECT_NE(targets.find("401 Unauthorized"), std::string::npos) << targets;
  const std::string up = HttpGet("127.0.0.1", prom_port, "/api/v1/query?query=up%7Bjob%3D%22good%22%7D");
  EXPECT_NE(up.find("\"1\"]"), std::string::npos) << up;
  const std::string cpu =
      HttpGet("127.0.0.1", prom_port, "/api/v1/query?query=count(node_cpu_seconds_total%7Bjob%3D%22good%22%7D)");
  EXPECT_NE(cpu.find("\"result\":[{"), std::string::npos) << cpu;
}

}  // namespace
}  // namespace xw::testing
