// The muc, upload, push and carbons probers against the scripted fake server: a server that
// does not offer the feature, a service that answers with an error, and (upload) an HTTPS
// server that refuses, alters or withholds the file. Each must end with its named outcome,
// long before the module's deadline, except where waiting for the deadline is the finding.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "../support/temp_dir.h"
#include "login_script.h"
#include "probe/config.h"
#include "probe/modules.h"

namespace xp {
namespace {

using test::Between;
using test::FakeConn;
using test::FakeServer;
using test::LoginScript;

using TempDir = test::TempDir;

// What the session answers to one client stanza; empty: an empty IQ result (for an IQ) or
// nothing (otherwise).
using Answer = std::function<std::string(const std::string& stanza)>;

// A full login, then every stanza of the session goes to `answer` until the client closes.
LoginScript Serving(Answer answer) {
  LoginScript s;
  s.after_auth = [answer](FakeConn& c, const std::string&) {
    std::string bind = c.ReadUntil("</iq>");
    if (bind.empty()) return;
    c.Write("<iq type='result' id='" + Between(bind, "id='", "'") +
            "'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>probe@good.example/r1</jid></bind></iq>");
    for (int i = 0; i < 200; ++i) {
      std::string s = c.ReadUntil(">", std::chrono::seconds(10));
      if (s.empty() || s.find("</stream:stream>") != std::string::npos) break;
      const bool self_closed = s.size() >= 2 && s.compare(s.size() - 2, 2, "/>") == 0;
      for (const char* kind : {"iq", "presence", "message"}) {
        if (s.find(std::string("<") + kind) != std::string::npos && !self_closed) {
          s += c.ReadUntil(std::string("</") + kind + ">");
        }
      }
      std::string reply = answer(s);
      if (reply.empty() && s.find("<iq") != std::string::npos) {
        reply = "<iq type='result' id='" + Between(s, "id='", "'") + "'/>";
      }
      if (!reply.empty()) c.Write(reply);
    }
    c.Write("</stream:stream>");
  };
  return s;
}

std::string IqReply(const std::string& iq, const std::string& payload) {
  return "<iq type='result' id='" + Between(iq, "id='", "'") + "'>" + payload + "</iq>";
}

std::string IqError(const std::string& iq, const std::string& condition) {
  return "<iq type='error' id='" + Between(iq, "id='", "'") + "'><error type='cancel'><" + condition +
         " xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>";
}

std::string Features(const std::vector<std::string>& vars) {
  std::string q = "<query xmlns='http://jabber.org/protocol/disco#info'>";
  for (const auto& v : vars) q += "<feature var='" + v + "'/>";
  return q + "</query>";
}

class FeatureModules : public ::testing::Test {
 protected:
  // A module of `prober` against the fake server, plain XMPP, with `extra` YAML appended.
  ModuleConfig Module(const std::string& prober, const std::string& extra = "") {
    const std::string pw = dir_.Write("pw", "secret");
    const std::string acct = "      user: probe\n      password_file: " + pw + "\n";
    std::string yaml = "modules:\n  m:\n    prober: " + prober + "\n    timeout: " + std::to_string(kTimeoutSeconds) +
                       "s\n    xmpp:\n      domain: good.example\n      tls: plain\n" + ca_ + "    account:\n" + acct +
                       "    peer:\n" + acct + extra;
    if (prober == "push") yaml += "    push:\n      app_server:\n" + Indent(acct);
    return ParseConfig(yaml, "t").modules.at("m");
  }
  static std::string Indent(const std::string& s) {
    std::string out;
    std::size_t start = 0;
    while (start < s.size()) {
      auto end = s.find('\n', start);
      out += "  " + s.substr(start, end - start + 1);
      start = end + 1;
    }
    return out;
  }
  // Runs the module and checks it ended with `want` before half its timeout.
  ProbeResult Expect(const ModuleConfig& m, const std::string& target, Outcome want) {
    ProbeResult r = RunProbe(m, target);
    EXPECT_EQ(OutcomeName(r.outcome), OutcomeName(want)) << r.detail;
    EXPECT_LT(r.duration_seconds, kTimeoutSeconds / 2.0) << "should not wait for the deadline: " << r.detail;
    return r;
  }
  static constexpr int kTimeoutSeconds = 20;
  TempDir dir_;
  std::string ca_;  // "      ca_file: ...\n" for the HTTPS tests
};

TEST_F(FeatureModules, EveryProberNeedsItsFeatureAnnounced) {
  // LoginScript answers every IQ with an empty result: no feature is announced anywhere.
  for (const char* prober : {"muc", "upload", "push", "carbons"}) {
    SCOPED_TRACE(prober);
    FakeServer server(LoginScript{});
    ProbeResult r = Expect(Module(prober), server.target(), Outcome::kFeatureMissing);
    EXPECT_FALSE(r.detail.empty());
  }
}

TEST_F(FeatureModules, MucServiceThatDoesNotExistIsFeatureMissing) {
  FakeServer server(Serving([](const std::string& s) -> std::string {
    if (s.find("disco#info") != std::string::npos) return IqError(s, "remote-server-not-found");
    return "";
  }));
  ProbeResult r = Expect(Module("muc", "    muc:\n      service: conference.nowhere.example\n"), server.target(),
                         Outcome::kFeatureMissing);
  EXPECT_NE(r.detail.find("remote-server-not-found"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("conference.nowhere.example"), std::string::npos) << r.detail;
}

TEST_F(FeatureModules, MucJoinRefusedIsServiceError) {
  FakeServer server(Serving([](const std::string& s) -> std::string {
    if (s.find("disco#info") != std::string::npos) return IqReply(s, Features({"http://jabber.org/protocol/muc"}));
    if (s.find("<presence") != std::string::npos) {
      return "<presence type='error' from='" + Between(s, "to='", "'") +
             "'><error type='auth'><registration-required xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
             "</presence>";
    }
    return "";
  }));
  ProbeResult r = Expect(Module("muc"), server.target(), Outcome::kServiceError);
  EXPECT_NE(r.detail.find("registration-required"), std::string::npos) << r.detail;
  EXPECT_TRUE(r.phases.count("auth"));
  EXPECT_FALSE(r.phases.count("join"));
}

TEST_F(FeatureModules, MucReflectionThatNeverComesIsDeliveryFailed) {
  // The room lets us in but swallows the groupchat message: the probe waits until its deadline.
  FakeServer server(Serving([](const std::string& s) -> std::string {
    if (s.find("disco#info") != std::string::npos) return IqReply(s, Features({"http://jabber.org/protocol/muc"}));
    if (s.find("<presence") != std::string::npos && s.find("unavailable") == std::string::npos) {
      return "<presence from='" + Between(s, "to='", "'") +
             "'><x xmlns='http://jabber.org/protocol/muc#user'><status code='110'/></x></presence>";
    }
    return "";
  }));
  ModuleConfig m = Module("muc");
  m.timeout = std::chrono::seconds(2);
  ProbeResult r = RunProbe(m, server.target());
  EXPECT_EQ(OutcomeName(r.outcome), "delivery_failed") << r.detail;
  EXPECT_TRUE(r.phases.count("join"));
  EXPECT_FALSE(r.phases.count("reflect"));
}

// An upload service that announces itself and answers slot requests with `slot`.
Answer UploadService(std::function<std::string(const std::string&)> slot) {
  return [slot](const std::string& s) -> std::string {
    if (s.find("disco#items") != std::string::npos) {
      return IqReply(s,
                     "<query xmlns='http://jabber.org/protocol/disco#items'><item jid='pubsub.good.example'/>"
                     "<item jid='upload.good.example'/></query>");
    }
    if (s.find("disco#info") != std::string::npos) {
      if (s.find("upload.good.example") != std::string::npos) return IqReply(s, Features({"urn:xmpp:http:upload:0"}));
      return IqError(s, "service-unavailable");
    }
    if (s.find("urn:xmpp:http:upload:0") != std::string::npos) return slot(s);
    return "";
  };
}

std::string Slot(const std::string& iq, const std::string& put, const std::string& get) {
  return IqReply(iq, "<slot xmlns='urn:xmpp:http:upload:0'><put url='" + put +
                         "'><header name='Authorization'>t"
                         "</header><header name='Host'>evil</header></put><get url='" +
                         get + "'/></slot>");
}

TEST_F(FeatureModules, UploadSlotRefusedIsServiceError) {
  FakeServer server(Serving(UploadService([](const std::string& s) { return IqError(s, "not-acceptable"); })));
  ProbeResult r = Expect(Module("upload"), server.target(), Outcome::kServiceError);
  EXPECT_NE(r.detail.find("not-acceptable"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("upload.good.example"), std::string::npos) << r.detail;
  EXPECT_TRUE(r.phases.count("discover"));
}

TEST_F(FeatureModules, UploadToNothingListeningIsUploadFailed) {
  const std::string url = "https://127.0.0.1:" + std::to_string(test::UnusedPort()) + "/upload/x";
  FakeServer server(Serving(UploadService([&](const std::string& s) { return Slot(s, url, url); })));
  ProbeResult r = Expect(Module("upload"), server.target(), Outcome::kUploadFailed);
  EXPECT_NE(r.detail.find("PUT " + url), std::string::npos) << r.detail;
  EXPECT_TRUE(r.phases.count("slot"));
}

TEST_F(FeatureModules, UploadRefusesPlainHttpSlots) {
  FakeServer server(Serving(UploadService(
      [](const std::string& s) { return Slot(s, "http://127.0.0.1:1/upload/x", "http://127.0.0.1:1/upload/x"); })));
  ProbeResult r = Expect(Module("upload"), server.target(), Outcome::kUploadFailed);
  EXPECT_NE(r.detail.find("not an https:// URL"), std::string::npos) << r.detail;
}

// An HTTPS server for the slot URLs: `reply(request)` is what it answers (empty: silence).
struct HttpsFake {
  std::unique_ptr<test::TestCert> cert = test::MakeSelfSignedCert("files.good.example");
  std::shared_ptr<std::vector<std::string>> requests = std::make_shared<std::vector<std::string>>();
  std::unique_ptr<FakeServer> server;
  explicit HttpsFake(std::function<std::string(const std::string&)> reply) {
    auto seen = requests;
    server = std::make_unique<FakeServer>(
        [reply, seen](FakeConn& c) {
          if (!c.StartTls()) return;
          std::string head = c.ReadUntil("\r\n\r\n");
          if (head.empty()) return;
          const std::string length = Between(head, "Content-Length: ", "\r\n");
          std::string body;
          if (!length.empty() && std::stoul(length) > 0) body = c.ReadSome(std::chrono::seconds(2));
          seen->push_back(head + body);
          std::string answer = reply(head);
          if (answer.empty()) {
            c.WaitClosed(std::chrono::seconds(10));
            return;
          }
          c.Write(answer);
        },
        cert.get());
  }
  std::string url() const {
    return "https://files.good.example:" + server->target().substr(server->target().find(':') + 1) + "/upload/f.bin";
  }
};

TEST_F(FeatureModules, UploadWithChangedBytesIsUploadFailedAndVerifiesTheUrlName) {
  HttpsFake files([](const std::string& head) -> std::string {
    if (head.rfind("PUT ", 0) == 0) return "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
    return "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  });
  ca_ = "      ca_file: " + files.cert->cert_file + "\n";
  const std::string url = files.url();
  FakeServer server(Serving(UploadService([&](const std::string& s) { return Slot(s, url, url); })));
  // The URL's host name resolves through upload.resolve; the certificate is checked against it.
  ModuleConfig m = Module("upload",
                          "    upload:\n      payload_bytes: 64\n      resolve:\n        files.good.example: "
                          "127.0.0.1\n");
  ProbeResult r = Expect(m, server.target(), Outcome::kUploadFailed);
  EXPECT_NE(r.detail.find("5 bytes came back, not the 64 uploaded"), std::string::npos) << r.detail;
  EXPECT_TRUE(r.phases.count("put"));
  ASSERT_EQ(files.requests->size(), 2u);
  const std::string& put = (*files.requests)[0];
  EXPECT_EQ(put.rfind("PUT /upload/f.bin HTTP/1.1\r\n", 0), 0u) << put;
  EXPECT_NE(put.find("Authorization: t\r\n"), std::string::npos) << put;
  EXPECT_EQ(put.find("evil"), std::string::npos) << "a slot header XEP-0363 does not allow was sent: " << put;
  EXPECT_NE(put.find("Content-Length: 64\r\n"), std::string::npos) << put;
}

TEST_F(FeatureModules, UploadCertificateForAnotherNameIsCertVerifyFailed) {
  HttpsFake files([](const std::string&) { return "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"; });
  ca_ = "      ca_file: " + files.cert->cert_file + "\n";
  // By address: the certificate names files.good.example, not 127.0.0.1.
  const std::string url = "https://" + files.server->target() + "/upload/f.bin";
  FakeServer server(Serving(UploadService([&](const std::string& s) { return Slot(s, url, url); })));
  ProbeResult r = Expect(Module("upload"), server.target(), Outcome::kCertVerifyFailed);
  EXPECT_TRUE(files.requests->empty());
}

TEST_F(FeatureModules, UploadServerThatNeverAnswersEndsAtTheDeadline) {
  HttpsFake files([](const std::string&) { return std::string(); });
  ca_ = "      ca_file: " + files.cert->cert_file + "\n";
  const std::string url = files.url();
  FakeServer server(Serving(UploadService([&](const std::string& s) { return Slot(s, url, url); })));
  ModuleConfig m = Module("upload", "    upload:\n      resolve: {files.good.example: 127.0.0.1}\n");
  m.timeout = std::chrono::seconds(2);
  ProbeResult r = RunProbe(m, server.target());
  EXPECT_EQ(OutcomeName(r.outcome), "timeout") << r.detail;
  EXPECT_NE(r.detail.find("PUT " + url), std::string::npos) << r.detail;
}

TEST_F(FeatureModules, PushEnableRefusedIsServiceError) {
  FakeServer server(Serving([](const std::string& s) -> std::string {
    if (s.find("disco#info") != std::string::npos) return IqReply(s, Features({"urn:xmpp:push:0"}));
    if (s.find("<enable xmlns='urn:xmpp:push:0'") != std::string::npos) return IqError(s, "not-allowed");
    return "";
  }));
  ProbeResult r = Expect(Module("push"), server.target(), Outcome::kServiceError);
  EXPECT_NE(r.detail.find("enabling push"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("not-allowed"), std::string::npos) << r.detail;
}

TEST_F(FeatureModules, PushThatNeverArrivesIsDeliveryFailed) {
  FakeServer server(Serving([](const std::string& s) -> std::string {
    if (s.find("disco#info") != std::string::npos) return IqReply(s, Features({"urn:xmpp:push:0"}));
    return "";  // enable succeeds, but no notification is ever published
  }));
  ModuleConfig m = Module("push");
  m.timeout = std::chrono::seconds(2);
  ProbeResult r = RunProbe(m, server.target());
  EXPECT_EQ(OutcomeName(r.outcome), "delivery_failed") << r.detail;
  EXPECT_NE(r.detail.find("push notification"), std::string::npos) << r.detail;
  EXPECT_TRUE(r.phases.count("enable"));
  EXPECT_FALSE(r.phases.count("push"));
}

TEST_F(FeatureModules, CarbonsEnableRefusedIsServiceError) {
  FakeServer server(Serving([](const std::string& s) -> std::string {
    if (s.find("disco#info") != std::string::npos) return IqReply(s, Features({"urn:xmpp:carbons:2"}));
    if (s.find("<enable xmlns='urn:xmpp:carbons:2'") != std::string::npos) return IqError(s, "not-allowed");
    return "";
  }));
  ProbeResult r = Expect(Module("carbons"), server.target(), Outcome::kServiceError);
  EXPECT_NE(r.detail.find("enabling carbons"), std::string::npos) << r.detail;
}

TEST_F(FeatureModules, CarbonsWithoutCopiesIsDeliveryFailed) {
  // Carbons "enabled", but the server never sends a copy.
  FakeServer server(Serving([](const std::string& s) -> std::string {
    if (s.find("disco#info") != std::string::npos) return IqReply(s, Features({"urn:xmpp:carbons:2"}));
    return "";
  }));
  ModuleConfig m = Module("carbons");
  m.timeout = std::chrono::seconds(2);
  ProbeResult r = RunProbe(m, server.target());
  EXPECT_EQ(OutcomeName(r.outcome), "delivery_failed") << r.detail;
  EXPECT_NE(r.detail.find("'received' carbon"), std::string::npos) << r.detail;
  EXPECT_TRUE(r.phases.count("enable"));
}

TEST(FeatureConfig, KeysAreCheckedAndTheBuiltInModulesParse) {
  ProbeConfig cfg = ParseConfig(DefaultConfigYaml("/run/x", "xmpp.test"), "default");
  for (const char* m : {"muc", "upload", "push", "carbons"}) {
    ASSERT_TRUE(cfg.modules.count(m)) << m;
    EXPECT_EQ(cfg.modules[m].prober, m);
    EXPECT_LT(cfg.modules[m].timeout, std::chrono::seconds(14)) << m << ": over the scrape timeout";
  }
  EXPECT_EQ(cfg.modules["muc"].muc.room, "xmpp_probe");
  EXPECT_EQ(cfg.modules["upload"].upload.resolve.at("ejabberd1.xmpp.test"), "127.0.0.2");
  EXPECT_EQ(cfg.modules["push"].push.app_server.user, "pushsvc");
  EXPECT_EQ(cfg.modules["push"].push.app_server.password_file, "/run/x/secrets/xmpp-pushsvc.password");
  auto err = [](const std::string& yaml) {
    try {
      ParseConfig(yaml, "f.yml");
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string acct = "    account: {user: a}\n    peer: {user: b}\n";
  EXPECT_NE(err("modules:\n  a:\n    prober: push\n" + acct).find("needs 'push.app_server'"), std::string::npos);
  EXPECT_NE(err("modules:\n  a:\n    prober: muc\n    account: {user: a}\n").find("needs 'peer'"), std::string::npos);
  EXPECT_NE(err("modules:\n  a:\n    prober: muc\n" + acct + "    muc: {room: 'a@b'}\n").find("plain local part"),
            std::string::npos);
  EXPECT_NE(
      err("modules:\n  a:\n    prober: upload\n" + acct + "    upload: {payload_bytes: 0}\n").find("payload_bytes"),
      std::string::npos);
  EXPECT_NE(err("modules:\n  a:\n    prober: upload\n" + acct + "    upload: {size: 1}\n").find("unknown key 'size'"),
            std::string::npos);
}

}  // namespace
}  // namespace xp
