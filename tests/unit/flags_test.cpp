// node_exporter-style flags: --collector.X / --no-collector.X, defaults, bad flags.
#include <gtest/gtest.h>

#include <algorithm>

#include "exporter_config.h"

namespace xw::exporter {
namespace {

ParseOutcome Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "xmppwatch_exporter");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return ParseFlags(static_cast<int>(argv.size()), argv.data());
}

bool Has(const ExporterConfig& c, const std::string& name) {
  return std::find(c.enabled_collectors.begin(), c.enabled_collectors.end(), name) != c.enabled_collectors.end();
}

TEST(Flags, DefaultsMatchNodeExporter) {
  const auto r = Parse({});
  ASSERT_TRUE(r.config);
  EXPECT_TRUE(Has(*r.config, "cpu"));
  EXPECT_TRUE(Has(*r.config, "filesystem"));
  EXPECT_FALSE(Has(*r.config, "processes"));  // off by default in node_exporter too
  EXPECT_EQ(r.config->listen_address, ":9100");
  EXPECT_EQ(r.config->telemetry_path, "/metrics");
}

TEST(Flags, EnableDisableAndDisableDefaults) {
  auto r = Parse({"--no-collector.cpu", "--collector.processes"});
  ASSERT_TRUE(r.config);
  EXPECT_FALSE(Has(*r.config, "cpu"));
  EXPECT_TRUE(Has(*r.config, "processes"));
  r = Parse({"--collector.disable-defaults", "--collector.loadavg", "--web.listen-address=127.0.0.2:9100"});
  ASSERT_TRUE(r.config);
  EXPECT_EQ(r.config->enabled_collectors, std::vector<std::string>{"loadavg"});
  EXPECT_EQ(r.config->listen_address, "127.0.0.2:9100");
}

TEST(Flags, CollectorOptionsAndPaths) {
  const auto r = Parse({"--collector.filesystem.mount-timeout", "2", "--path.procfs=/host/proc"});
  ASSERT_TRUE(r.config);
  EXPECT_EQ(r.config->collector_options.at("collector.filesystem.mount-timeout"), "2");
  EXPECT_EQ(r.config->paths.procfs, "/host/proc");
}

TEST(Flags, UnknownFlagAndBadValueFail) {
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(Parse({"--collector.bogus"}).exit_code, 1);
  EXPECT_EQ(Parse({"--log.level=loud"}).exit_code, 1);
  EXPECT_EQ(Parse({"--web.workers=0"}).exit_code, 1);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("--collector.bogus"), std::string::npos) << err;
  EXPECT_NE(err.find("loud"), std::string::npos) << err;
}

TEST(Flags, BadCollectorOptionNamesTheCollector) {
  auto r = Parse({"--collector.diskstats.device-exclude=("});
  ASSERT_TRUE(r.config);
  EXPECT_THROW(MakeCollectors(*r.config), ConfigError);
}

}  // namespace
}  // namespace xw::exporter
