// node_exporter-style flags: --collector.X / --no-collector.X, typed collector options (Go
// durations, bools, regexps), node_exporter 1.5's whole flag set, bad flags.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <future>
#include <regex>

#include "exporter_config.h"
#include "request_limit.h"

namespace xw::exporter {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

ParseOutcome Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "xmppwatch_exporter");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return ParseFlags(static_cast<int>(argv.size()), argv.data());
}

// Parses and returns stderr; expects exit 1.
std::string ParseFails(std::vector<std::string> args) {
  ::testing::internal::CaptureStderr();
  const auto r = Parse(std::move(args));
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_FALSE(r.config);
  EXPECT_EQ(r.exit_code, 1);
  return err;
}

bool Has(const ExporterConfig& c, const std::string& name) {
  return std::find(c.enabled_collectors.begin(), c.enabled_collectors.end(), name) != c.enabled_collectors.end();
}

CollectorContext Context(const ExporterConfig& c) {
  return {c.paths, c.collector_options};
}

TEST(Flags, DefaultsMatchNodeExporter) {
  const auto r = Parse({});
  ASSERT_TRUE(r.config);
  EXPECT_TRUE(Has(*r.config, "cpu"));
  EXPECT_TRUE(Has(*r.config, "filesystem"));
  EXPECT_FALSE(Has(*r.config, "processes"));  // off by default in node_exporter too
  EXPECT_EQ(r.config->listen_addresses, std::vector<std::string>{":9100"});
  EXPECT_EQ(r.config->telemetry_path, "/metrics");
  EXPECT_EQ(r.config->max_requests, 40);
  EXPECT_FALSE(r.config->disable_exporter_metrics);
  EXPECT_TRUE(r.config->warnings.empty());
  const auto ctx = Context(*r.config);
  EXPECT_EQ(ctx.DurationOption("collector.filesystem.mount-timeout"), seconds(5));
  EXPECT_TRUE(ctx.BoolOption("collector.cpu.guest"));
  EXPECT_FALSE(ctx.BoolOption("collector.netclass.ignore-invalid-speed"));
  EXPECT_EQ(ctx.Option("collector.netdev.device-exclude"), "^lo$");
}

TEST(Flags, EnableDisableAndDisableDefaults) {
  auto r = Parse({"--no-collector.cpu", "--collector.processes"});
  ASSERT_TRUE(r.config);
  EXPECT_FALSE(Has(*r.config, "cpu"));
  EXPECT_TRUE(Has(*r.config, "processes"));
  r = Parse({"--collector.disable-defaults", "--collector.loadavg", "--web.listen-address=127.0.0.2:9100"});
  ASSERT_TRUE(r.config);
  EXPECT_EQ(r.config->enabled_collectors, std::vector<std::string>{"loadavg"});
  EXPECT_EQ(r.config->listen_addresses, std::vector<std::string>{"127.0.0.2:9100"});
}

TEST(Flags, DurationsAreParsedTheGoWay) {
  const std::pair<const char*, nanoseconds> good[] = {{"5s", seconds(5)},
                                                      {"1m30s", seconds(90)},
                                                      {"250ms", milliseconds(250)},
                                                      {"1h", seconds(3600)},
                                                      {"1.5h", seconds(5400)},
                                                      {"2h45m0.5s", milliseconds(9900500)},
                                                      {"300us", nanoseconds(300000)},
                                                      {"10ns", nanoseconds(10)},
                                                      {"0", nanoseconds(0)},
                                                      {"2", seconds(2)},
                                                      {"0.25", milliseconds(250)},
                                                      {"-1s", seconds(-1)}};
  for (const auto& [text, want] : good) {
    nanoseconds d{};
    EXPECT_TRUE(ParseGoDuration(text, d)) << text;
    EXPECT_EQ(d, want) << text;
  }
  for (const char* bad : {"", "soon", "5x", "s", "1.2.3s", "5 s", "1s5", "--1s", "1e3s", "99999999999h"}) {
    nanoseconds d{};
    EXPECT_FALSE(ParseGoDuration(bad, d)) << bad;
  }
  EXPECT_EQ(FormatGoDuration(seconds(90)), "1m30s");
  EXPECT_EQ(FormatGoDuration(milliseconds(250)), "250ms");
  EXPECT_EQ(FormatGoDuration(seconds(3600)), "1h0m0s");
  EXPECT_EQ(FormatGoDuration(nanoseconds(0)), "0s");
}

TEST(Flags, TypedCollectorOptions) {
  for (const auto& [given, want] : std::vector<std::pair<std::string, nanoseconds>>{
           {"5s", seconds(5)}, {"1m30s", seconds(90)}, {"250ms", milliseconds(250)}, {"2", seconds(2)}}) {
    const auto r = Parse({"--collector.filesystem.mount-timeout=" + given, "--path.procfs=/host/proc"});
    ASSERT_TRUE(r.config) << given;
    EXPECT_EQ(Context(*r.config).DurationOption("collector.filesystem.mount-timeout"), want) << given;
    EXPECT_EQ(r.config->paths.procfs, "/host/proc");
  }
  // The separate-argument form too, and durations of the ejabberd and mysql collectors.
  const auto r = Parse({"--collector.ejabberd.timeout", "1500ms", "--collector.mysql.heartbeat-interval=0"});
  ASSERT_TRUE(r.config);
  EXPECT_EQ(Context(*r.config).DurationOption("collector.ejabberd.timeout"), milliseconds(1500));
  EXPECT_EQ(Context(*r.config).DurationOption("collector.mysql.heartbeat-interval"), nanoseconds(0));
}

TEST(Flags, BoolOptionsTakeKingpinAndExplicitForms) {
  const std::pair<std::vector<std::string>, bool> cases[] = {
      {{"--collector.netclass.ignore-invalid-speed"}, true},       // node_exporter's form
      {{"--collector.netclass.ignore-invalid-speed=true"}, true},  // this exporter's old form
      {{"--collector.netclass.ignore-invalid-speed=false"}, false},
      {{"--collector.netclass.ignore-invalid-speed", "--no-collector.netclass.ignore-invalid-speed"}, false}};
  for (const auto& [args, want] : cases) {
    const auto r = Parse(args);
    ASSERT_TRUE(r.config) << args[0];
    EXPECT_EQ(Context(*r.config).BoolOption("collector.netclass.ignore-invalid-speed"), want) << args.back();
  }
  const auto r = Parse({"--no-collector.cpu.guest"});
  ASSERT_TRUE(r.config);
  EXPECT_FALSE(Context(*r.config).BoolOption("collector.cpu.guest"));
}

TEST(Flags, BadTypedValuesNameTheFlagAndTheValue) {
  std::string err = ParseFails({"--collector.filesystem.mount-timeout=soon"});
  EXPECT_NE(err.find("--collector.filesystem.mount-timeout"), std::string::npos) << err;
  EXPECT_NE(err.find("'soon'"), std::string::npos) << err;
  EXPECT_NE(err.find("1m30s"), std::string::npos) << err;  // says what a duration looks like
  err = ParseFails({"--collector.diskstats.device-exclude=("});
  EXPECT_NE(err.find("--collector.diskstats.device-exclude"), std::string::npos) << err;
  EXPECT_NE(err.find("regexp"), std::string::npos) << err;
  err = ParseFails({"--collector.netclass.ignore-invalid-speed=maybe"});
  EXPECT_NE(err.find("ignore-invalid-speed"), std::string::npos) << err;
  EXPECT_NE(err.find("maybe"), std::string::npos) << err;
  err = ParseFails({"--lb-agent.interval=often"});
  EXPECT_NE(err.find("--lb-agent.interval"), std::string::npos) << err;
  EXPECT_NE(err.find("often"), std::string::npos) << err;
  err = ParseFails({"--web.max-requests=x"});
  EXPECT_NE(err.find("--web.max-requests"), std::string::npos) << err;
}

TEST(Flags, UnknownFlagAndBadValueFail) {
  std::string err = ParseFails({"--collector.bogus"});
  EXPECT_NE(err.find("--collector.bogus"), std::string::npos) << err;
  err = ParseFails({"--log.level=loud"});
  EXPECT_NE(err.find("loud"), std::string::npos) << err;
  ParseFails({"--web.workers=0"});
  ParseFails({"--log.format=xml"});
}

TEST(Flags, OutOfRangeValuesFailWhenTheCollectorIsMade) {
  const auto r = Parse({"--collector.filesystem.mount-timeout=0s"});
  ASSERT_TRUE(r.config);
  try {
    MakeCollectors(*r.config);
    ADD_FAILURE() << "a zero mount timeout was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("mount-timeout"), std::string::npos) << e.what();
  }
}

TEST(Flags, NodeExporterTopLevelFlagsAreAcceptedAndKept) {
  const auto r =
      Parse({"--log.format=json", "--log.level=debug", "--web.disable-exporter-metrics", "--web.max-requests=3",
             "--web.systemd-socket", "--runtime.gomaxprocs=2", "--web.telemetry-path=/m", "--path.rootfs=/host",
             "--path.udev.data=/host/udev", "--web.listen-address=127.0.0.1:9100", "--web.listen-address=[::1]:9100",
             "--collector.filesystem.ignored-mount-points=^/x$", "--collector.netdev.device-whitelist=^eth"});
  ASSERT_TRUE(r.config);
  const auto& c = *r.config;
  EXPECT_EQ(c.log_format, "json");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_TRUE(c.disable_exporter_metrics);
  EXPECT_EQ(c.max_requests, 3);
  EXPECT_TRUE(c.systemd_socket);
  EXPECT_EQ(c.telemetry_path, "/m");
  EXPECT_EQ(c.paths.rootfs, "/host");
  EXPECT_EQ(c.paths.udev_data, "/host/udev");
  EXPECT_EQ(c.listen_addresses, (std::vector<std::string>{"127.0.0.1:9100", "[::1]:9100"}));
  // node_exporter's deprecated spellings set the same values.
  EXPECT_EQ(Context(c).Option("collector.filesystem.mount-points-exclude"), "^/x$");
  EXPECT_EQ(Context(c).Option("collector.netdev.device-include"), "^eth");
  // What has no effect here is said at start.
  const std::string all = [&] {
    std::string s;
    for (const auto& w : c.warnings) s += w + "\n";
    return s;
  }();
  EXPECT_NE(all.find("--web.systemd-socket"), std::string::npos) << all;
  EXPECT_NE(all.find("--runtime.gomaxprocs"), std::string::npos) << all;
}

TEST(Flags, CollectorsWeDoNotHaveAreAcceptedWithAWarning) {
  auto r = Parse({"--collector.systemd", "--no-collector.zfs", "--collector.ntp.server=10.0.0.1",
                  "--collector.systemd.enable-restarts-metrics", "--collector.sysctl.include=vm.swappiness",
                  "--collector.sysctl.include=fs.file-max"});
  ASSERT_TRUE(r.config);
  std::string all;
  for (const auto& w : r.config->warnings) all += w + "\n";
  EXPECT_NE(all.find("collector systemd is not implemented"), std::string::npos) << all;
  EXPECT_EQ(all.find("zfs"), std::string::npos) << all;  // turning off what is absent is fine
  EXPECT_NE(all.find("--collector.ntp.server"), std::string::npos) << all;
  EXPECT_NE(all.find("--collector.sysctl.include"), std::string::npos) << all;
  EXPECT_FALSE(Has(*r.config, "systemd"));
}

// Every flag `prometheus-node-exporter --help` lists (Debian's 1.5), all on one command line.
TEST(Flags, EveryNodeExporterFlagIsAccepted) {
  FILE* p = ::popen("prometheus-node-exporter --help 2>&1", "r");
  std::string help;
  if (p != nullptr) {
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) help.append(buf, n);
    ::pclose(p);
  }
  if (help.find("--collector.textfile.directory") == std::string::npos) {
    GTEST_SKIP() << "prometheus-node-exporter is not installed";
  }
  std::vector<std::string> args;
  const std::regex flag(R"re(^\s+(?:-h, )?(--[a-zA-Z0-9_.-]+)(=("([^"]*)"|\S+))?)re");
  std::size_t start = 0;
  while (start < help.size()) {
    const std::size_t end = help.find('\n', start);
    const std::string line = help.substr(start, end == std::string::npos ? std::string::npos : end - start);
    start = end == std::string::npos ? help.size() : end + 1;
    std::smatch m;
    if (!std::regex_search(line, m, flag)) continue;
    const std::string name = m[1];
    // (--help-long and --help-man also start a wrapped line of --help's description.)
    if (name.starts_with("--help") || name == "--version") continue;
    if (!m[2].matched) {
      args.push_back(name);  // a bool
    } else if (m[4].matched) {
      args.push_back(name + "=" + m[4].str());  // its quoted default
    } else if (std::isupper(static_cast<unsigned char>(m[3].str()[0]))) {
      args.push_back(name + "=x");  // a placeholder: a string without default
    } else {
      args.push_back(name + "=" + m[3].str());  // an unquoted default: 40, 3.46608s, :9100
    }
  }
  ASSERT_GT(args.size(), 120u) << help;  // 137 in 1.5.0
  // The listen address default ":9100" stays; the default collectors are all asked for.
  ::testing::internal::CaptureStderr();
  const auto r = Parse(args);
  const std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(r.config) << err;
  EXPECT_TRUE(Has(*r.config, "textfile"));
  EXPECT_EQ(Context(*r.config).DurationOption("collector.filesystem.mount-timeout"), seconds(5));
}

TEST(RequestLimit, OverTheCapIs503AndTheSlotIsFreedAfter) {
  RequestLimit limit(1);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> entered;
  const auto handler = limit.Wrap([&](const HttpRequest&) {
    entered.set_value();
    released.wait();
    return HttpResponse{200, "text/plain", "ok"};
  });
  auto first = std::async(std::launch::async, [&] { return handler(HttpRequest{}); });
  entered.get_future().wait();
  const HttpResponse second = handler(HttpRequest{});
  EXPECT_EQ(second.status, 503);
  EXPECT_NE(second.body.find("Limit of concurrent requests reached (1)"), std::string::npos);
  release.set_value();
  EXPECT_EQ(first.get().status, 200);
  // The slot is back: the next request runs (the handler returns at once now).
  entered = std::promise<void>();
  EXPECT_EQ(handler(HttpRequest{}).status, 200);
  // 0 is no cap at all.
  RequestLimit none(0);
  EXPECT_EQ(none.Wrap([](const HttpRequest&) { return HttpResponse{}; })(HttpRequest{}).status, 200);
}

}  // namespace
}  // namespace xw::exporter
