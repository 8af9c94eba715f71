// Probe layer: configuration, metrics rendering, modules against the fake server, the
// failover message format and the `check` command's exit codes.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "../support/temp_dir.h"
#include "exposition.h"
#include "login_script.h"
#include "probe/config.h"
#include "probe/failover.h"
#include "probe/modules.h"
#include "probe/target_policy.h"

namespace xp {
namespace {

using test::FakeServer;
using test::LoginScript;

using TempDir = test::TempDir;

std::string PlainConfig(const std::string& pwfile, const std::string& prober = "login") {
  return "modules:\n  m:\n    prober: " + prober +
         "\n    timeout: 3s\n    xmpp:\n      domain: good.example\n      tls: plain\n    account:\n      user: probe\n"
         "      password_file: " +
         pwfile + "\n";
}

TEST(Config, DefaultStackConfigParses) {
  ProbeConfig cfg = ParseConfig(DefaultConfigYaml("/run/x", "xmpp.test"), "default");
  for (const char* m : {"c2s", "c2s_tls", "login", "message", "offline", "mam", "failover"}) {
    ASSERT_TRUE(cfg.modules.count(m)) << m;
  }
  EXPECT_EQ(cfg.modules["message"].peer.target, "127.0.0.3:5222");
  EXPECT_EQ(cfg.modules["login"].xmpp.ca_file, "/run/x/tls/xmpp.test.crt");
  EXPECT_TRUE(cfg.modules["failover"].failover.continuous);
  EXPECT_EQ(cfg.modules["failover"].failover.interval.count(), 100);
  EXPECT_EQ(cfg.modules["c2s_tls"].xmpp.tls, TlsMode::kDirect);
}

TEST(Config, ErrorsNameTheProblem) {
  auto err = [](const std::string& yaml) {
    try {
      ParseConfig(yaml, "f.yml");
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(err("modules:\n  a:\n    prober: bogus\n").find("unknown prober 'bogus'"), std::string::npos);
  EXPECT_NE(err("modules:\n  a:\n    prober: c2s\n    tiemout: 5s\n").find("unknown key 'tiemout'"), std::string::npos);
  EXPECT_NE(err("modules:\n  a:\n    prober: login\n").find("needs 'account'"), std::string::npos);
  EXPECT_NE(err("modules:\n  a:\n    prober: c2s\n    timeout: 5 parsecs\n").find("bad duration"), std::string::npos);
  EXPECT_NE(err("modules:\n  a:\n    prober: c2s\n    xmpp:\n      tls: maybe\n").find("tls must be"),
            std::string::npos);
}

TEST(Config, Durations) {
  EXPECT_EQ(ParseDuration("100ms").count(), 100);
  EXPECT_EQ(ParseDuration("1.5s").count(), 1500);
  EXPECT_EQ(ParseDuration("2m").count(), 120000);
  EXPECT_THROW(ParseDuration("5"), std::invalid_argument);
  EXPECT_THROW(ParseDuration("-1s"), std::invalid_argument);
}

TEST(Config, PasswordFileErrorsNeverShowThePassword) {
  TempDir dir;
  Account a;
  a.user = "u";
  a.password_file = dir.Write("pw", "hunter2\n");
  EXPECT_EQ(ReadPassword(a), "hunter2");
  a.password_file = dir.path + "/missing";
  try {
    ReadPassword(a);
    FAIL();
  } catch (const ProbeError& e) {
    EXPECT_EQ(e.outcome(), Outcome::kConfigError);
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos);
  }
}

TEST(Result, RendersBlackboxStyleMetrics) {
  ProbeResult r;
  r.outcome = Outcome::kAuthFailed;
  r.duration_seconds = 0.25;
  r.phases = {{"connect", 0.001}, {"auth", 0.2}};
  r.Add("probe_ssl_earliest_cert_expiry", "expiry", 1.9e9);
  auto fams = xw::ParseExposition(RenderResult(r));
  std::map<std::string, double> values;
  for (const auto& f : fams) {
    for (const auto& s : f.samples) {
      std::string key = s.name;
      for (const auto& [k, v] : s.labels) key += "," + k + "=" + v;
      values[key] = s.value;
    }
  }
  EXPECT_EQ(values["probe_success"], 0);
  EXPECT_EQ(values["probe_duration_seconds"], 0.25);
  EXPECT_EQ(values["probe_xmpp_duration_seconds,phase=auth"], 0.2);
  EXPECT_EQ(values["probe_xmpp_outcome,outcome=auth_failed"], 1);
  EXPECT_EQ(values["probe_ssl_earliest_cert_expiry"], 1.9e9);
}

TEST(Modules, LoginSucceedsAgainstFakeServer) {
  TempDir dir;
  FakeServer server(LoginScript{});
  auto cfg = ParseConfig(PlainConfig(dir.Write("pw", "secret")), "t");
  ProbeResult r = RunProbe(cfg.modules["m"], server.target());
  EXPECT_TRUE(r.success()) << r.detail;
  for (const char* p : {"dns", "connect", "auth", "bind", "ping"}) EXPECT_TRUE(r.phases.count(p)) << p;
}

TEST(Modules, WrongPasswordIsAuthFailedAndNotLeaked) {
  TempDir dir;
  FakeServer server(LoginScript{});
  auto cfg = ParseConfig(PlainConfig(dir.Write("pw", "not-the-secret")), "t");
  ProbeResult r = RunProbe(cfg.modules["m"], server.target());
  EXPECT_EQ(r.outcome, Outcome::kAuthFailed);
  EXPECT_EQ(r.detail.find("not-the-secret"), std::string::npos);
  EXPECT_EQ(RenderResult(r).find("not-the-secret"), std::string::npos);
}

TEST(Modules, C2sReportsFeatures) {
  FakeServer server(LoginScript{});
  auto cfg =
      ParseConfig("modules:\n  c:\n    prober: c2s\n    xmpp:\n      tls: plain\n      domain: good.example\n", "t");
  ProbeResult r = RunProbe(cfg.modules["c"], server.target());
  EXPECT_TRUE(r.success()) << r.detail;
  int mechs = 0;
  for (const auto& s : r.extra) mechs += s.name == "probe_xmpp_sasl_mechanism_offered";
  EXPECT_EQ(mechs, 2);
}

TEST(TargetPolicy, PatternsMatchHostAndPortWithoutCrossingTheColon) {
  EXPECT_TRUE(TargetPatternMatches("127.0.0.1:5222", "127.0.0.1:5222"));
  EXPECT_TRUE(TargetPatternMatches("127.0.0.*:5222", "127.0.0.3:5222"));
  EXPECT_TRUE(TargetPatternMatches("*.Example.org:52??", "xmpp.example.ORG:5223"));
  EXPECT_TRUE(TargetPatternMatches("xmpp.test:*", "xmpp.test:5222"));
  EXPECT_FALSE(TargetPatternMatches("127.0.0.*:5222", "127.0.0.3:5223"));
  EXPECT_FALSE(TargetPatternMatches("*:5222", "[::1]:5222"));  // a star never spans ':'
  EXPECT_FALSE(TargetPatternMatches("xmpp.test:*", "xmpp.test:5222:evil"));
  EXPECT_FALSE(TargetPatternMatches("127.0.0.1:5222", "127.0.0.1:52220"));
  EXPECT_FALSE(TargetPatternMatches("*", "a:b"));
}

TEST(TargetPolicy, OwnTargetOrAllowedListOnly) {
  auto cfg = ParseConfig(
      "modules:\n  c:\n    prober: c2s\n    target: 127.0.0.1:5222\n    allowed_targets: ['127.0.0.2:52*']\n"
      "  d:\n    prober: c2s\n",
      "t");
  EXPECT_FALSE(TargetRefusal(cfg.modules["c"], ""));
  EXPECT_FALSE(TargetRefusal(cfg.modules["c"], "127.0.0.1:5222"));
  EXPECT_FALSE(TargetRefusal(cfg.modules["c"], "127.0.0.2:5269"));
  auto why = TargetRefusal(cfg.modules["c"], "evil.example:5222");
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("'evil.example:5222' is not allowed for module 'c'"), std::string::npos) << *why;
  ASSERT_TRUE(TargetRefusal(cfg.modules["d"], "127.0.0.1:5222"));
  EXPECT_NE(TargetRefusal(cfg.modules["d"], "127.0.0.1:5222")->find("has no target"), std::string::npos);
  EXPECT_THROW(ParseConfig("modules:\n  c:\n    prober: c2s\n    allowed_targets: 'x:1'\n", "t"), std::runtime_error);
  EXPECT_THROW(ParseConfig("modules:\n  c:\n    prober: c2s\n    allowed_targets: ['nohost']\n", "t"),
               std::runtime_error);
}

// The built-in node_login module may be aimed at node 2 as well as its own node 1 (Prometheus
// job xmpp_probe_nodes), and at nothing else: not the load balancer, not another port.
TEST(TargetPolicy, BuiltInNodeLoginReachesEachNodeOnly) {
  auto cfg = ParseConfig(DefaultConfigYaml("/run/x", "xmpp.test"), "default");
  const ModuleConfig& m = cfg.modules.at("node_login");
  EXPECT_EQ(m.prober, "login");
  EXPECT_EQ(m.account.user, "nodeprobe");
  EXPECT_FALSE(TargetRefusal(m, "127.0.0.2:5222"));
  EXPECT_FALSE(TargetRefusal(m, "127.0.0.3:5222"));
  EXPECT_FALSE(TargetRefusal(m, "127.0.0.7:5222"));  // node 5 of server/stack up --nodes 5
  EXPECT_TRUE(TargetRefusal(m, "127.0.0.4:5222"));   // the federated peer: another domain
  EXPECT_TRUE(TargetRefusal(m, "127.0.0.1:5222"));
  EXPECT_TRUE(TargetRefusal(m, "127.0.0.3:5223"));
  EXPECT_TRUE(TargetRefusal(cfg.modules.at("login"), "127.0.0.3:5222"));
}

TEST(Config, ByteBudgetsReachTheClient) {
  TempDir dir;
  auto cfg = ParseConfig(
      "modules:\n  m:\n    prober: login\n    xmpp:\n      backlog_bytes: 2000000\n      login_bytes: 65536\n"
      "      session_bytes: 100000000\n    account:\n      user: u\n      password_file: " +
          dir.Write("pw", "x") + "\n",
      "t");
  const ClientConfig c = MakeClientConfig(cfg.modules["m"], cfg.modules["m"].account, "127.0.0.1:5222", "r");
  EXPECT_EQ(c.budgets.backlog_bytes, 2000000u);
  EXPECT_EQ(c.budgets.login_bytes, 65536u);
  EXPECT_EQ(c.budgets.session_bytes, 100000000u);
  EXPECT_THROW(ParseConfig("modules:\n  m:\n    prober: c2s\n    xmpp:\n      backlog_bytes: 10\n", "t"),
               std::runtime_error);
}

TEST(Modules, MissingTargetIsConfigError) {
  auto cfg = ParseConfig("modules:\n  c:\n    prober: c2s\n", "t");
  EXPECT_EQ(RunProbe(cfg.modules["c"], "").outcome, Outcome::kConfigError);
}

TEST(Failover, BodyFormat) {
  std::uint64_t run = 0, n = 0;
  std::int64_t ns = 0;
  EXPECT_TRUE(FailoverRunner::ParseBody("fo 12 34 56", run, n, ns));
  EXPECT_EQ(run, 12u);
  EXPECT_EQ(n, 34u);
  EXPECT_EQ(ns, 56);
  EXPECT_FALSE(FailoverRunner::ParseBody("fo 12 34", run, n, ns));
  EXPECT_FALSE(FailoverRunner::ParseBody("fo 12 34 56 extra", run, n, ns));
  EXPECT_FALSE(FailoverRunner::ParseBody("hello", run, n, ns));
}

#ifdef XMPP_PROBE_BIN
int RunCheck(const std::string& args, std::string* out) {
  std::string cmd = std::string(XMPP_PROBE_BIN) + " check " + args + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  while (fgets(buf, sizeof buf, p)) *out += buf;
  int status = pclose(p);
  return WEXITSTATUS(status);
}

TEST(CheckCommand, ExitCodesFollowTheMonitoringPluginContract) {
  TempDir dir;
  std::string conf = dir.Write("c.yml", PlainConfig(dir.Write("pw", "secret")));
  {
    FakeServer server(LoginScript{});
    std::string out;
    EXPECT_EQ(RunCheck("--config.file " + conf + " --module m --target " + server.target(), &out), 0) << out;
    EXPECT_EQ(out.rfind("XMPP OK - m to ", 0), 0u) << out;
    EXPECT_NE(out.find("| time="), std::string::npos) << out;
  }
  std::string out;
  EXPECT_EQ(
      RunCheck("--config.file " + conf + " --module m --target 127.0.0.1:" + std::to_string(test::UnusedPort()), &out),
      2);
  EXPECT_NE(out.find("CRITICAL - connect_refused"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(RunCheck("--config.file " + conf + " --module nope", &out), 3);
  EXPECT_NE(out.find("UNKNOWN"), std::string::npos) << out;
  {
    // Flags written before the subcommand are meant for it too (they used to be silently
    // ignored, and check probed with the built-in configuration, where there is no module m).
    FakeServer server(LoginScript{});
    out.clear();
    std::string cmd = std::string(XMPP_PROBE_BIN) + " --config.file " + conf + " check --module m --target " +
                      server.target() + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    char buf[4096];
    while (fgets(buf, sizeof buf, p)) out += buf;
    EXPECT_EQ(WEXITSTATUS(pclose(p)), 0) << out;
    EXPECT_EQ(out.rfind("XMPP OK - m to ", 0), 0u) << out;
    out.clear();
    cmd = std::string(XMPP_PROBE_BIN) + " --web.listen-address 127.0.0.1:1 check --module m 2>&1";
    p = popen(cmd.c_str(), "r");
    while (fgets(buf, sizeof buf, p)) out += buf;
    EXPECT_EQ(WEXITSTATUS(pclose(p)), 1) << out;
    EXPECT_NE(out.find("--web.listen-address is a flag of the daemon"), std::string::npos) << out;
  }
  {
    FakeServer server(LoginScript{});
    out.clear();
    // Any real login takes longer than 1 ns: WARNING.
    EXPECT_EQ(RunCheck("--config.file " + conf + " --module m -w 0.000000001 --target " + server.target(), &out), 1)
        << out;
  }
}
#endif

}  // namespace
}  // namespace xp
