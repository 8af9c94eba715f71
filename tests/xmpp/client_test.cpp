// The client against scripted fake servers: a good one (full login offline) and hostile ones
// (garbage, silence, endless stanza, refused, wrong certificate). Only outcomes are asserted,
// never durations: timeouts are short, but a busy machine may stretch them.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "fake_server.h"
#include "login_script.h"
#include "xmpp/outcome.h"
#include "xmpp/scram.h"
#include "xmpp/xmpp_client.h"

namespace xp {
namespace {

using test::FakeConn;
using test::FakeServer;
using namespace std::chrono_literals;
using test::kClientHeaderEnd;
using test::kHeader;
using test::LoginScript;

Outcome LoginOutcome(ClientConfig cfg, std::chrono::milliseconds timeout = 3s, std::string* detail = nullptr) {
  XmppClient client(std::move(cfg));
  try {
    client.Login(Clock::now() + timeout);
    client.Ping(Clock::now() + timeout);
    client.Close(Clock::now() + 1s);
  } catch (const ProbeError& e) {
    if (detail) *detail = e.what();
    return e.outcome();
  }
  return Outcome::kOk;
}

TEST(Client, FullLoginOverPlainTcpWithScramSha256) {
  FakeServer server(LoginScript{});
  XmppClient client(test::PlainClientConfig(server.target()));
  client.Login(Clock::now() + 5s);
  EXPECT_EQ(client.jid(), "probe@good.example/r1");
  EXPECT_EQ(client.mechanism_used(), "SCRAM-SHA-256");
  for (const char* phase : {"dns", "connect", "auth", "bind"}) EXPECT_TRUE(client.phases().count(phase)) << phase;
  EXPECT_GE(client.Ping(Clock::now() + 5s), 0.0);
  client.Close(Clock::now() + 1s);
}

TEST(Client, ScramSha1WhenOnlyThatIsOffered) {
  LoginScript script;
  script.sha256 = false;
  FakeServer server(script);
  EXPECT_EQ(LoginOutcome(test::PlainClientConfig(server.target())), Outcome::kOk);
}

TEST(Client, WrongPasswordIsAuthFailed) {
  FakeServer server(LoginScript{});
  auto cfg = test::PlainClientConfig(server.target());
  cfg.password = "wrong";
  EXPECT_EQ(LoginOutcome(cfg), Outcome::kAuthFailed);
}

TEST(Client, PlainIsNotUsedUnlessAllowedAndNeverWithoutTls) {
  FakeServer server(LoginScript{});
  auto cfg = test::PlainClientConfig(server.target());
  cfg.mechanisms = {"DIGEST-MD5"};
  EXPECT_EQ(LoginOutcome(cfg), Outcome::kNoMechanism);
  cfg.mechanisms = {"PLAIN"};
  EXPECT_EQ(LoginOutcome(cfg), Outcome::kNoMechanism);
}

TEST(Client, ConnectRefused) {
  EXPECT_EQ(LoginOutcome(test::PlainClientConfig("127.0.0.1:" + std::to_string(test::UnusedPort()))),
            Outcome::kConnectRefused);
}

// No test resolves a name: the machine's resolver is not on loopback, and unit tests send
// nothing beyond 127.0.0.0/8. Targets here are numeric, which getaddrinfo answers locally.

TEST(Hostile, SilentServerTimesOut) {
  FakeServer server([](FakeConn& c) { c.WaitClosed(5s); });
  EXPECT_EQ(LoginOutcome(test::PlainClientConfig(server.target()), 300ms), Outcome::kTimeout);
}

TEST(Hostile, GarbageIsProtocolError) {
  FakeServer server([](FakeConn& c) {
    c.Write(std::string("\x16\x03\x01\x00\xa5garbage\xff\xfe<<<>>>", 18));
    c.WaitClosed(2s);
  });
  EXPECT_EQ(LoginOutcome(test::PlainClientConfig(server.target())), Outcome::kProtocolError);
}

TEST(Hostile, EndlessStanzaIsLimitExceeded) {
  FakeServer server([](FakeConn& c) {
    c.ReadUntil(kClientHeaderEnd);
    c.Write(kHeader + "<message><body>");
    std::string chunk(16384, 'x');
    // Bounded: 64 MiB at most, or until the client hangs up.
    for (int i = 0; i < 4096 && c.Write(chunk); ++i) {
    }
  });
  auto cfg = test::PlainClientConfig(server.target());
  cfg.limits.max_stanza_bytes = 64 * 1024;
  EXPECT_EQ(LoginOutcome(cfg, 10s), Outcome::kLimitExceeded);
}

TEST(Hostile, DeepNestingIsLimitExceeded) {
  FakeServer server([](FakeConn& c) {
    c.ReadUntil(kClientHeaderEnd);
    std::string deep = kHeader;
    for (int i = 0; i < 10000; ++i) deep += "<a>";
    c.Write(deep);
    c.WaitClosed(2s);
  });
  EXPECT_EQ(LoginOutcome(test::PlainClientConfig(server.target())), Outcome::kLimitExceeded);
}

TEST(Hostile, SlowDripTimesOut) {
  // One byte at a time, never finishing the features: the deadline, not the data, ends it.
  FakeServer server([](FakeConn& c) {
    c.ReadUntil(kClientHeaderEnd);
    std::string msg = kHeader + "<stream:features>";
    for (char ch : msg) c.Write(std::string(1, ch));
    for (int i = 0; i < 100 && c.Write(" "); ++i) std::this_thread::sleep_for(20ms);
  });
  EXPECT_EQ(LoginOutcome(test::PlainClientConfig(server.target()), 500ms), Outcome::kTimeout);
}

TEST(Hostile, StreamErrorIsNamed) {
  FakeServer server([](FakeConn& c) {
    c.ReadUntil(kClientHeaderEnd);
    c.Write(kHeader +
            "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>");
    c.WaitClosed(2s);
  });
  std::string detail;
  EXPECT_EQ(LoginOutcome(test::PlainClientConfig(server.target()), 3s, &detail), Outcome::kStreamError);
  EXPECT_NE(detail.find("host-unknown"), std::string::npos) << detail;
}

TEST(Hostile, ImmediateCloseIsClosed) {
  FakeServer server([](FakeConn&) {});
  EXPECT_EQ(LoginOutcome(test::PlainClientConfig(server.target())), Outcome::kClosed);
}

TEST(Hostile, MissingStarttlsIsNamed) {
  FakeServer server(LoginScript{});
  auto cfg = test::PlainClientConfig(server.target());
  cfg.tls_mode = TlsMode::kStarttls;
  cfg.tls = std::make_shared<TlsContext>(TlsOptions{});
  EXPECT_EQ(LoginOutcome(cfg), Outcome::kStarttlsMissing);
}

class Tls : public ::testing::Test {
 protected:
  std::unique_ptr<test::TestCert> cert_ = test::MakeSelfSignedCert("good.example");
  ClientConfig TlsConfig(const std::string& target, TlsMode mode, TlsOptions opts) {
    auto cfg = test::PlainClientConfig(target);
    cfg.tls_mode = mode;
    cfg.tls = std::make_shared<TlsContext>(opts);
    return cfg;
  }
};

TEST_F(Tls, StarttlsWithTrustedCertLogsIn) {
  LoginScript script;
  script.tls = LoginScript::Tls::kStarttls;
  FakeServer server(script, cert_.get());
  XmppClient client(TlsConfig(server.target(), TlsMode::kStarttls, {cert_->cert_file}));
  client.Login(Clock::now() + 5s);
  EXPECT_TRUE(client.tls_active());
  EXPECT_TRUE(client.phases().count("tls"));
  EXPECT_GT(client.cert().earliest_expiry_unix, 0);
  EXPECT_EQ(client.cert().leaf_sha256.size(), 64u);
  client.Close(Clock::now() + 1s);
}

TEST_F(Tls, DirectTlsLogsIn) {
  LoginScript script;
  script.tls = LoginScript::Tls::kDirect;
  FakeServer server(script, cert_.get());
  EXPECT_EQ(LoginOutcome(TlsConfig(server.target(), TlsMode::kDirect, {cert_->cert_file})), Outcome::kOk);
}

TEST_F(Tls, UntrustedCertIsVerifyFailure) {
  LoginScript script;
  script.tls = LoginScript::Tls::kDirect;
  FakeServer server(script, cert_.get());
  EXPECT_EQ(LoginOutcome(TlsConfig(server.target(), TlsMode::kDirect, {})), Outcome::kCertVerifyFailed);
}

TEST_F(Tls, NameMismatchIsVerifyFailure) {
  LoginScript script;
  script.tls = LoginScript::Tls::kStarttls;
  FakeServer server(script, cert_.get());
  auto cfg = TlsConfig(server.target(), TlsMode::kStarttls, {cert_->cert_file});
  cfg.domain = "other.example";
  std::string detail;
  EXPECT_EQ(LoginOutcome(cfg, 3s, &detail), Outcome::kCertVerifyFailed);
  EXPECT_NE(detail.find("other.example"), std::string::npos) << detail;
}

TEST_F(Tls, InsecureSkipsVerification) {
  LoginScript script;
  script.tls = LoginScript::Tls::kDirect;
  FakeServer server(script, cert_.get());
  TlsOptions opts;
  opts.insecure = true;
  auto cfg = TlsConfig(server.target(), TlsMode::kDirect, opts);
  cfg.domain = "other.example";
  EXPECT_EQ(LoginOutcome(cfg), Outcome::kOk);
}

TEST_F(Tls, PlainTextServerOnTlsPortIsTlsError) {
  FakeServer server([](FakeConn& c) {
    c.Write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    c.WaitClosed(2s);
  });
  EXPECT_EQ(LoginOutcome(TlsConfig(server.target(), TlsMode::kDirect, {cert_->cert_file})), Outcome::kTlsError);
}

TEST(Outcome, NamesAreDistinct) {
  std::set<std::string_view> names;
  for (int i = 0; i <= static_cast<int>(Outcome::kDnsTimeout); ++i) names.insert(OutcomeName(static_cast<Outcome>(i)));
  EXPECT_EQ(names.size(), static_cast<std::size_t>(Outcome::kDnsTimeout) + 1);
}

}  // namespace
}  // namespace xp
