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
Reply Get(int port, const std::string& path) {
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
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
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
std::string Config(const std::string& target, const std::string& allowed) {
  return "modules:\n  m:\n    prober: login\n    target: " + target + "\n" + allowed +
         "    timeout: 3s\n    xmpp:\n      domain: good.example\n      tls: plain\n"
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

}  // namespace
}  // namespace xp
