// The daemon's /probe as an attacker would use it: a target the module does not allow gets
// 403 and no connection (the account's credentials never leave), an allowed one is probed.
// Runs the real xmpp_probe binary on 127.0.0.1 against fake servers on 127.0.0.1.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "login_script.h"

namespace xp {
namespace {

using test::FakeServer;
using test::LoginScript;

struct Reply {
  int status = 0;
  std::string body;
};

// One GET over a fresh connection; status 0 when nothing answered.
Reply Get(int port, const std::string& path, const std::string& extra_headers = "") {
  Reply reply;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{20, 0};  // hang guard only
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return reply;
  }
  const std::string req =
      "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + extra_headers + "\r\n";
  (void)!write(fd, req.data(), req.size());
  std::string all;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) all.append(buf, static_cast<std::size_t>(n));
  close(fd);
  if (all.rfind("HTTP/1.1 ", 0) == 0) reply.status = std::stoi(all.substr(9, 3));
  const auto body = all.find("\r\n\r\n");
  if (body != std::string::npos) reply.body = all.substr(body + 4);
  return reply;
}

class ProbeDaemon {
 public:
  explicit ProbeDaemon(const std::string& config) {
    char tmpl[] = "/tmp/xp-serve-XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::ofstream(dir_ + "/pw") << "secret\n";
    std::string text = config;
    const auto at = text.find("@PW@");
    if (at != std::string::npos) text.replace(at, 4, dir_ + "/pw");
    std::ofstream(dir_ + "/c.yml") << text;
    // Port 0 is not reported back; pick a free one the way the other tests do.
    port_ = test::UnusedPort();
    pid_ = fork();
    if (pid_ == 0) {
      const std::string listen = "127.0.0.1:" + std::to_string(port_);
      const std::string conf = dir_ + "/c.yml";
      const std::string log = dir_ + "/log";
      FILE* out = freopen(log.c_str(), "w", stderr);
      (void)out;
      execl(XMPP_PROBE_BIN, XMPP_PROBE_BIN, "--config.file", conf.c_str(), "--web.listen-address", listen.c_str(),
            "--no-continuous", static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 200 && Get(port_, "/-/healthy").status != 200; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  }
  ~ProbeDaemon() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    std::filesystem::remove_all(dir_);
  }
  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  void Signal(int sig) const { kill(pid_, sig); }
  // Replaces the configuration file (for a SIGHUP reload).
  void Rewrite(const std::string& config) const {
    std::string text = config;
    const auto at = text.find("@PW@");
    if (at != std::string::npos) text.replace(at, 4, dir_ + "/pw");
    std::ofstream(dir_ + "/c.yml.new") << text;
    std::filesystem::rename(dir_ + "/c.yml.new", dir_ + "/c.yml");
  }
  std::string Log() const {
    std::ifstream in(dir_ + "/log");
    return {std::istreambuf_iterator<char>(in), {}};
  }

 private:
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// The daemon writes the account's password file and puts its path where @PW@ is.
std::string Config(const std::string& target, const std::string& allowed, const std::string& timeout = "3s") {
  return "modules:\n  m:\n    prober: login\n    target: " + target + "\n" + allowed + "    timeout: " + timeout +
         "\n    xmpp:\n      domain: good.example\n      tls: plain\n"
         "    account:\n      user: probe\n      password_file: @PW@\n";
}

TEST(ProbeEndpoint, UnlistedTargetIsRefusedWithoutAnyConnection) {
  std::atomic<int> connections{0};
  FakeServer attacker([&](test::FakeConn&) { ++connections; });
  FakeServer legit(LoginScript{});
  ProbeDaemon daemon(Config(legit.target(), ""));

  Reply refused = Get(daemon.port(), "/probe?module=m&target=" + attacker.target());
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_NE(refused.body.find("not allowed for module 'm'"), std::string::npos) << refused.body;
  EXPECT_EQ(refused.body.find("secret"), std::string::npos);
  // The module's own target still works, so the refusal is the policy, not a broken probe.
  Reply own = Get(daemon.port(), "/probe?module=m");
  EXPECT_EQ(own.status, 200);
  EXPECT_NE(own.body.find("probe_success 1"), std::string::npos) << own.body << daemon.Log();
  EXPECT_EQ(connections.load(), 0) << "the probe connected to a target it was not allowed";
  EXPECT_NE(daemon.Log().find("probe refused"), std::string::npos) << daemon.Log();
}

TEST(ProbeEndpoint, AllowedTargetsPatternLetsTheProbeThrough) {
  FakeServer other(LoginScript{});
  ProbeDaemon daemon(Config("127.0.0.1:5222", "    allowed_targets: ['127.0.0.1:*']\n"));
  Reply ok = Get(daemon.port(), "/probe?module=m&target=" + other.target());
  EXPECT_EQ(ok.status, 200);
  EXPECT_NE(ok.body.find("probe_success 1"), std::string::npos) << ok.body << daemon.Log();
  // The pattern's star stops at ':', so it cannot be stretched over a second host:port.
  EXPECT_EQ(Get(daemon.port(), "/probe?module=m&target=" + other.target() + ":10.0.0.1").status, 403);
  EXPECT_EQ(Get(daemon.port(), "/probe?module=m&target=10.0.0.1:5222").status, 403);
}

double Value(const std::string& body, const std::string& series) {
  const auto at = body.find("\n" + series + " ");
  return at == std::string::npos ? -1 : std::stod(body.substr(at + series.size() + 2));
}

// A server that accepts and never answers: a probe against it runs until its deadline.
std::unique_ptr<FakeServer> SilentServer() {
  return std::make_unique<FakeServer>([](test::FakeConn& c) { c.WaitClosed(std::chrono::seconds(30)); });
}

TEST(ProbeEndpoint, ASlowProbeDoesNotHoldUpMetrics) {
  auto silent = SilentServer();
  ProbeDaemon daemon(Config(silent->target(), "", "4s"));
  std::atomic<bool> probe_done{false};
  Reply probe;
  std::thread prober([&] {
    probe = Get(daemon.port(), "/probe?module=m");
    probe_done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let the probe start
  Reply metrics = Get(daemon.port(), "/metrics");
  // Before the worker pool, /probe ran on the only I/O thread: /metrics waited for it.
  EXPECT_FALSE(probe_done.load()) << "the probe ended before /metrics answered; the test proves nothing";
  EXPECT_EQ(metrics.status, 200);
  prober.join();
  EXPECT_EQ(probe.status, 200);
  EXPECT_NE(probe.body.find("probe_success 0"), std::string::npos) << probe.body;
}

TEST(ProbeEndpoint, ScrapeTimeoutHeaderShortensTheProbe) {
  auto silent = SilentServer();
  ProbeDaemon daemon(Config(silent->target(), "", "20s"));
  // Prometheus would wait 2 s: the probe must give up after 1.5 s, not the module's 20 s.
  Reply r = Get(daemon.port(), "/probe?module=m", "X-Prometheus-Scrape-Timeout-Seconds: 2\r\n");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("probe_xmpp_outcome{outcome=\"timeout\"} 1"), std::string::npos) << r.body;
  const double took = Value(r.body, "probe_duration_seconds");
  EXPECT_GT(took, 1.0) << r.body;
  EXPECT_LT(took, 10.0) << "the module's 20 s applied, not the scrape's 2 s: " << r.body;
}

TEST(ProbeEndpoint, SighupReloadsTheModulesAndABrokenFileKeepsTheOldOnes) {
  FakeServer other(LoginScript{});
  ProbeDaemon daemon(Config("127.0.0.1:5222", ""));
  ASSERT_EQ(Get(daemon.port(), "/probe?module=m&target=" + other.target()).status, 403);
  daemon.Rewrite(Config("127.0.0.1:5222", "    allowed_targets: ['" + other.target() + "']\n"));
  daemon.Signal(SIGHUP);
  Reply after;
  for (int i = 0; i < 100; ++i) {  // the reload is asynchronous: poll (bounded)
    after = Get(daemon.port(), "/probe?module=m&target=" + other.target());
    if (after.status != 403) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(after.status, 200) << daemon.Log();
  EXPECT_NE(after.body.find("probe_success 1"), std::string::npos) << after.body;
  daemon.Rewrite("modules: [broken\n");
  daemon.Signal(SIGHUP);
  for (int i = 0; i < 100 && daemon.Log().find("configuration not reloaded") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(daemon.Log().find("configuration not reloaded"), std::string::npos) << daemon.Log();
  EXPECT_EQ(Get(daemon.port(), "/probe?module=m&target=" + other.target()).status, 200) << daemon.Log();
}

}  // namespace
}  // namespace xp
