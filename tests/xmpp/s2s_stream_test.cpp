// S2sStream (the probe's side of a server-to-server stream) against scripted fake servers:
// a good remote (STARTTLS, verified certificate, SASL EXTERNAL and dialback offered), one
// that offers no STARTTLS, one that offers no authentication at all over TLS, one whose
// certificate names another domain, a stream error, silence. Outcomes only, never durations.
#include <gtest/gtest.h>

#include "fake_server.h"
#include "s2s_script.h"
#include "xmpp/outcome.h"
#include "xmpp/s2s_stream.h"

namespace xp {
namespace {

using test::FakeConn;
using test::FakeServer;
using namespace std::chrono_literals;
using test::kS2sHeader;
using test::S2sScript;

class S2s : public ::testing::Test {
 protected:
  std::unique_ptr<test::TestCert> cert_ = test::MakeSelfSignedCert("remote.example");

  S2sConfig Config(const std::string& target, const std::string& to = "remote.example") {
    S2sConfig c;
    c.target = target;
    c.to = to;
    c.from = "home.example";
    c.tls = std::make_shared<TlsContext>(TlsOptions{cert_->cert_file});
    return c;
  }

  Outcome Run(S2sConfig cfg, std::string* detail = nullptr, std::chrono::milliseconds timeout = 3s) {
    S2sStream s(std::move(cfg));
    try {
      s.Negotiate(Clock::now() + timeout);
      s.Close(Clock::now() + 1s);
    } catch (const ProbeError& e) {
      if (detail) *detail = e.what();
      return e.outcome();
    }
    return Outcome::kOk;
  }
};

TEST_F(S2s, StarttlsVerifiedCertificateAndOfferedAuthentication) {
  S2sScript script;
  FakeServer server(script, cert_.get());
  S2sStream s(Config(server.target()));
  s.Negotiate(Clock::now() + 5s);
  EXPECT_TRUE(s.tls_active());
  EXPECT_EQ(s.mechanisms_offered(), std::vector<std::string>{"EXTERNAL"});
  EXPECT_TRUE(s.dialback_offered());
  EXPECT_EQ(s.remote_from(), "remote.example");
  EXPECT_GT(s.cert().earliest_expiry_unix, 0);
  for (const char* phase : {"s2s_dns", "s2s_connect", "s2s_starttls", "s2s_tls", "s2s_features"}) {
    EXPECT_TRUE(s.phases().count(phase)) << phase;
  }
  s.Close(Clock::now() + 1s);
  // A server-to-server stream, naming both domains.
  EXPECT_NE(script.seen->find("xmlns='jabber:server'"), std::string::npos) << *script.seen;
  EXPECT_NE(script.seen->find("to='remote.example'"), std::string::npos) << *script.seen;
  EXPECT_NE(script.seen->find("from='home.example'"), std::string::npos) << *script.seen;
}

TEST_F(S2s, NoStarttlsIsStarttlsMissing) {
  S2sScript script;
  script.offer_starttls = false;
  FakeServer server(script, cert_.get());
  EXPECT_EQ(Run(Config(server.target())), Outcome::kStarttlsMissing);
}

// TLS works but the remote offers neither SASL EXTERNAL nor dialback: the stream itself is
// fine (no outcome), and the probe says so through what it reports as offered.
TEST_F(S2s, NoAuthenticationOfferedIsReportedNotFailed) {
  S2sScript script;
  script.tls_features = "<stream:features/>";
  FakeServer server(script, cert_.get());
  S2sStream s(Config(server.target()));
  s.Negotiate(Clock::now() + 5s);
  EXPECT_TRUE(s.tls_active());
  EXPECT_TRUE(s.mechanisms_offered().empty());
  EXPECT_FALSE(s.dialback_offered());
  s.Close(Clock::now() + 1s);
}

TEST_F(S2s, CertificateForAnotherDomainIsVerifyFailure) {
  FakeServer server(S2sScript{}, cert_.get());
  std::string detail;
  EXPECT_EQ(Run(Config(server.target(), "other.example"), &detail), Outcome::kCertVerifyFailed);
  EXPECT_NE(detail.find("other.example"), std::string::npos) << detail;
}

TEST_F(S2s, UntrustedCertificateIsVerifyFailure) {
  FakeServer server(S2sScript{}, cert_.get());
  auto cfg = Config(server.target());
  auto other = test::MakeSelfSignedCert("remote.example");  // same name, another key
  cfg.tls = std::make_shared<TlsContext>(TlsOptions{other->cert_file});
  EXPECT_EQ(Run(cfg), Outcome::kCertVerifyFailed);
}

TEST_F(S2s, StreamErrorIsNamed) {
  FakeServer server([](FakeConn& c) {
    if (c.ReadUntil("xml:lang='en'>").empty()) return;
    c.Write(kS2sHeader +
            "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
            "</stream:stream>");
    c.WaitClosed(2s);
  });
  std::string detail;
  EXPECT_EQ(Run(Config(server.target()), &detail), Outcome::kStreamError);
  EXPECT_NE(detail.find("host-unknown"), std::string::npos) << detail;
}

TEST_F(S2s, SilentServerTimesOut) {
  FakeServer server([](FakeConn& c) { c.WaitClosed(5s); });
  EXPECT_EQ(Run(Config(server.target()), nullptr, 500ms), Outcome::kTimeout);
}

TEST_F(S2s, NothingListeningIsConnectRefused) {
  EXPECT_EQ(Run(Config("127.0.0.1:" + std::to_string(test::UnusedPort()))), Outcome::kConnectRefused);
}

TEST_F(S2s, EndlessFeaturesEndAtTheByteBudget) {
  FakeServer server([](FakeConn& c) {
    if (c.ReadUntil("xml:lang='en'>").empty()) return;
    c.Write(kS2sHeader + "<stream:features>");  // features that never end
    std::string junk(4096, 'x');
    for (int i = 0; i < 200; ++i) {
      if (!c.Write("<a>" + junk + "</a>")) return;
    }
    c.WaitClosed(2s);
  });
  auto cfg = Config(server.target());
  cfg.max_bytes = 64 * 1024;
  EXPECT_EQ(Run(cfg), Outcome::kSessionBudgetExceeded);
}

}  // namespace
}  // namespace xp
