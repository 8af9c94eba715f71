// The parts of the ejabberd and MariaDB collectors that need no running server: the
// mod_metrics datagram grammar, the auth-failure log reader, credentials files, flags.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "collect.h"
#include "mysql/connection.h"
#include "web_config.h"

namespace xw::exporter {
bool ParseEjabberdDatagramForTest(std::string_view d, std::string& vhost, std::string& hook, double& value);
}

namespace xw::testing {
namespace {

TEST(EjabberdMetricsDatagram, ParsesTheModMetricsFormat) {
  std::string vhost, hook;
  double v = 0;
  ASSERT_TRUE(exporter::ParseEjabberdDatagramForTest("xmpp.test/127.user_send_packet:c/1795433785:1", vhost, hook, v));
  EXPECT_EQ(vhost, "xmpp.test");
  EXPECT_EQ(hook, "user_send_packet");
  EXPECT_EQ(v, 1);
  ASSERT_TRUE(exporter::ParseEjabberdDatagramForTest("example.org/ejabberd.offline_message:c/1:3\n", vhost, hook, v));
  EXPECT_EQ(hook, "offline_message");
  EXPECT_EQ(v, 3);
}

TEST(EjabberdMetricsDatagram, RejectsGarbage) {
  std::string vhost, hook;
  double v = 0;
  for (const char* bad : {"", "garbage", "/127.hook:c/1:1", "h/127.hook:g/1:1", "h/127.hook:c/x:1", "h/127.hook:c/1:-1",
                          "h/127hook:c/1:1", "h\"x/127.hook:c/1:1", "h/127.:c/1:1", "h/127.hook:c/1:"}) {
    EXPECT_FALSE(exporter::ParseEjabberdDatagramForTest(bad, vhost, hook, v)) << bad;
  }
}

class TempLog {
 public:
  TempLog() : path_(std::filesystem::temp_directory_path() / ("xw-ejlog-" + std::to_string(::getpid()) + ".log")) {
    std::ofstream(path_) << "2026-11-23 [warning] Failed c2s PLAIN authentication for old@xmpp.test from 1.2.3.4: x\n";
  }
  ~TempLog() { std::filesystem::remove(path_); }
  void Append(const std::string& text) { std::ofstream(path_, std::ios::app) << text; }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

constexpr const char* kFailure =
    "2026-11-23 11:33:53.537455+00:00 [warning] <0.709.0>@ejabberd_c2s:process_auth_result/3:280 (tls|<0.709.0>) "
    "Failed c2s SCRAM-SHA-256 authentication for alice@xmpp.test from 127.0.0.1: Invalid username or password\n";

TEST(EjabberdAuthLog, CountsNewFailuresPerVhostAcrossPartialLinesAndRotation) {
  TempLog log;
  auto c = MakeCollector("ejabberd_auth", exporter::Paths{}, {{"collector.ejabberd_auth.log-file", log.path()}});
  // What was in the log before the exporter started is not counted.
  EXPECT_FALSE(Value(c->Collect(), "ejabberd_auth_failures_total", {{"vhost", "xmpp.test"}}));
  log.Append(kFailure);
  log.Append("2026-11-23 [info] Accepted c2s SCRAM-SHA-256 authentication for bob@xmpp.test\n");
  const std::string half(kFailure);
  log.Append(half.substr(0, 60));  // a line still being written
  EXPECT_EQ(*Value(c->Collect(), "ejabberd_auth_failures_total", {{"vhost", "xmpp.test"}}), 1);
  log.Append(half.substr(60));
  EXPECT_EQ(*Value(c->Collect(), "ejabberd_auth_failures_total", {{"vhost", "xmpp.test"}}), 2);
  // Rotation: the file is replaced by a shorter one.
  std::ofstream(log.path(), std::ios::trunc) << kFailure;
  EXPECT_EQ(*Value(c->Collect(), "ejabberd_auth_failures_total", {{"vhost", "xmpp.test"}}), 3);
}

TEST(EjabberdAuthLog, NeedsAFile) {
  EXPECT_THROW(MakeCollector("ejabberd_auth", exporter::Paths{}), ConfigError);
}

TEST(EjabberdCollector, UnreachableApiIsUpZeroNotAFailure) {
  // A port nothing listens on: connection refused at once.
  auto c = MakeCollector("ejabberd", exporter::Paths{}, {{"collector.ejabberd.api-url", "http://127.0.0.1:1/api"}});
  const auto f = c->Collect();
  EXPECT_EQ(*Value(f, "ejabberd_up"), 0);
  EXPECT_EQ(*Value(f, "ejabberd_scrape_errors_total", {{"reason", "connect"}}), 1);
  EXPECT_THROW(MakeCollector("ejabberd", exporter::Paths{}, {{"collector.ejabberd.timeout", "0"}}), ConfigError);
}

// A node that accepts connections and never answers (a hung VM, SIGSTOP): the collector gives
// up at its timeout with reason "timeout"; it does not hang the scrape.
TEST(EjabberdCollector, HungApiTimesOut) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 8), 0);  // the kernel completes handshakes; nobody reads
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/api";
  auto c = MakeCollector("ejabberd", exporter::Paths{},
                         {{"collector.ejabberd.api-url", url}, {"collector.ejabberd.timeout", "0.3"}});
  const auto f = c->Collect();
  EXPECT_EQ(*Value(f, "ejabberd_up"), 0);
  EXPECT_EQ(*Value(f, "ejabberd_scrape_errors_total", {{"reason", "timeout"}}), 1);
  ::close(fd);
}

TEST(MysqlCollector, CredentialsFileAndFlags) {
  const auto dir = std::filesystem::temp_directory_path() / ("xw-my-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "ok.cnf") << "# comment\n[mysqld]\nuser=nope\n[client]\nuser = exporter\npassword=\"p=w d\"\n";
  std::ofstream(dir / "nouser.cnf") << "[client]\npassword=x\n";
  const auto [user, pw] = exporter::ReadCredentials((dir / "ok.cnf").string());
  EXPECT_EQ(user, "exporter");
  EXPECT_EQ(pw, "p=w d");
  EXPECT_THROW(exporter::ReadCredentials((dir / "nouser.cnf").string()), exporter::MysqlError);
  EXPECT_THROW(MakeCollector("mysql", exporter::Paths{}), ConfigError);  // no credentials file
  EXPECT_THROW(
      MakeCollector("mysql", exporter::Paths{}, {{"collector.mysql.credentials-file", (dir / "missing.cnf").string()}}),
      ConfigError);
  // A server that is not there: mysql_up 0, the reason counted, the collector itself fine.
  auto c = MakeCollector("mysql", exporter::Paths{},
                         {{"collector.mysql.credentials-file", (dir / "ok.cnf").string()},
                          {"collector.mysql.address", "127.0.0.1:1"},
                          {"collector.mysql.heartbeat-interval", "0"}});
  const auto f = c->Collect();
  EXPECT_EQ(*Value(f, "mysql_up"), 0);
  EXPECT_EQ(*Value(f, "xmppwatch_mysql_connection_errors_total", {{"reason", "unreachable"}}), 1);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace xw::testing
