// The s2s prober against scripted fake servers: a remote s2s listener (s2s_script.h), the
// remote domain's c2s (the receiver) and the home domain's c2s (the sender). The home server
// bouncing the message is s2s_failed, silence until the deadline delivery_failed, a remote
// without STARTTLS starttls_missing, nothing listening connect_refused; a good run reports
// the s2s phases and what the remote offered.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "login_script.h"
#include "probe/config.h"
#include "probe/modules.h"
#include "s2s_script.h"

namespace xp {
namespace {

using test::Between;
using test::FakeConn;
using test::FakeServer;
using test::LoginScript;
using test::S2sScript;

// A c2s session: bind, `on_bound` gets the connection (for a test that routes between two
// fake servers), then `on_message` gets each <message/> and returns what to write back.
LoginScript Session(std::function<std::string(const std::string&)> on_message,
                    std::function<void(FakeConn&)> on_bound = nullptr) {
  LoginScript s;
  s.after_auth = [on_message, on_bound](FakeConn& c, const std::string&) {
    std::string bind = c.ReadUntil("</iq>");
    if (bind.empty()) return;
    c.Write("<iq type='result' id='" + Between(bind, "id='", "'") +
            "'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>probe@good.example/r1</jid></bind></iq>");
    if (on_bound) on_bound(c);
    for (int i = 0; i < 100; ++i) {
      std::string s = c.ReadUntil(">", std::chrono::seconds(10));
      if (s.empty() || s.find("</stream:stream>") != std::string::npos) break;
      if (s.find("<message") != std::string::npos) s += c.ReadUntil("</message>");
      std::string reply = on_message && s.find("<message") != std::string::npos ? on_message(s) : "";
      if (!reply.empty()) c.Write(reply);
    }
    c.Write("</stream:stream>");
  };
  return s;
}

// The connection a fake server's session bound, for another server's script to write to.
struct Route {
  std::atomic<FakeConn*> conn{nullptr};
  std::string Forward(const std::string& stanza) {
    // Stamped with a sender, as a server would, so the receiver's client can answer it.
    std::string s = stanza;
    s.replace(s.find("<message"), 8, "<message from='probe@elsewhere.example/x'");
    if (FakeConn* c = conn.load()) c->Write(s);
    return "";
  }
};

class S2sModule : public ::testing::Test {
 protected:
  S2sModule() {
    char tmpl[] = "/tmp/xp-s2s-XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::ofstream(dir_ + "/pw") << "secret";
  }
  ~S2sModule() override { std::filesystem::remove_all(dir_); }

  // home: the sender's c2s; remote_c2s: the receiver's; the probe target is the remote s2s.
  ModuleConfig Module(const std::string& home, const std::string& remote_c2s, int timeout_s = 10) {
    const std::string pw = dir_ + "/pw";
    std::string yaml = "modules:\n  m:\n    prober: s2s\n    timeout: " + std::to_string(timeout_s) +
                       "s\n    xmpp:\n      domain: good.example\n      tls: plain\n    account:\n      user: probe\n"
                       "      password_file: " +
                       pw + "\n      target: " + home + "\n    peer:\n      user: probe\n      password_file: " + pw +
                       "\n      target: " + remote_c2s +
                       "\n      domain: remote.example\n      ca_file: " + cert_->cert_file + "\n";
    return ParseConfig(yaml, "t").modules.at("m");
  }

  std::unique_ptr<test::TestCert> cert_ = test::MakeSelfSignedCert("remote.example");
  std::string dir_;
};

double Metric(const ProbeResult& r, const std::string& name, const std::string& method = "") {
  for (const auto& s : r.extra) {
    if (s.name == name && (method.empty() || s.labels.at("method") == method)) return s.value;
  }
  return -1;
}

TEST_F(S2sModule, DeliveredAndAcknowledgedAcrossTheFederation) {
  FakeServer s2s(S2sScript{}, cert_.get());
  // The two fake servers stand in for the federation: the home server hands the sender's
  // message to the receiver's session, the remote one the receiver's receipt to the sender's.
  auto to_receiver = std::make_shared<Route>();
  auto to_sender = std::make_shared<Route>();
  FakeServer home(Session([to_receiver](const std::string& m) { return to_receiver->Forward(m); },
                          [to_sender](FakeConn& c) { to_sender->conn = &c; }));
  FakeServer remote(Session([to_sender](const std::string& m) { return to_sender->Forward(m); },
                            [to_receiver](FakeConn& c) { to_receiver->conn = &c; }));
  ProbeResult r = RunProbe(Module(home.target(), remote.target()), s2s.target());
  EXPECT_EQ(OutcomeName(r.outcome), "ok") << r.detail;
  for (const char* phase :
       {"s2s_connect", "s2s_starttls", "s2s_tls", "s2s_features", "peer_login", "login", "deliver", "receipt"}) {
    EXPECT_TRUE(r.phases.count(phase)) << phase;
  }
  EXPECT_EQ(Metric(r, "probe_s2s_tls"), 1);
  EXPECT_EQ(Metric(r, "probe_s2s_auth_offered", "sasl_external"), 1);
  EXPECT_EQ(Metric(r, "probe_s2s_auth_offered", "dialback"), 1);
  EXPECT_GE(Metric(r, "probe_s2s_message_round_trip_seconds"), 0);
}

TEST_F(S2sModule, SilentFederationIsDeliveryFailed) {
  FakeServer s2s(S2sScript{}, cert_.get());
  FakeServer home(Session(nullptr));  // swallows the message: no delivery, no bounce
  FakeServer remote(Session(nullptr));
  ModuleConfig m = Module(home.target(), remote.target());
  m.timeout = std::chrono::milliseconds(1500);
  ProbeResult r = RunProbe(m, s2s.target());
  EXPECT_EQ(OutcomeName(r.outcome), "delivery_failed") << r.detail;
}

TEST_F(S2sModule, HomeServerBounceIsS2sFailed) {
  FakeServer s2s(S2sScript{}, cert_.get());
  FakeServer home(Session([](const std::string& m) {
    return "<message type='error' from='probe@remote.example/r1' id='" + Between(m, "id='", "'") +
           "'><error type='cancel'><remote-server-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
           "</error></message>";
  }));
  FakeServer remote(Session(nullptr));
  ProbeResult r = RunProbe(Module(home.target(), remote.target()), s2s.target());
  EXPECT_EQ(OutcomeName(r.outcome), "s2s_failed") << r.detail;
  EXPECT_NE(r.detail.find("remote-server-not-found"), std::string::npos) << r.detail;
}

TEST_F(S2sModule, RemoteWithoutStarttlsIsStarttlsMissing) {
  S2sScript script;
  script.offer_starttls = false;
  FakeServer s2s(script, cert_.get());
  ProbeResult r = RunProbe(Module("127.0.0.1:1", "127.0.0.1:1"), s2s.target());
  EXPECT_EQ(OutcomeName(r.outcome), "starttls_missing") << r.detail;
  EXPECT_TRUE(r.phases.count("s2s_connect"));
}

TEST_F(S2sModule, RemoteDownIsConnectRefused) {
  const std::string down = "127.0.0.1:" + std::to_string(test::UnusedPort());
  ProbeResult r = RunProbe(Module(down, down), down);
  EXPECT_EQ(OutcomeName(r.outcome), "connect_refused") << r.detail;
}

}  // namespace
}  // namespace xp
