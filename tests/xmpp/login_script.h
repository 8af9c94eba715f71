// A well-behaved scripted XMPP server (plain, STARTTLS or direct TLS; SCRAM; bind; pings)
// for tests that need a full login without the real stack.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fake_server.h"
#include "xmpp/scram.h"
#include "xmpp/xmpp_client.h"

namespace xp::test {

using namespace std::chrono_literals;

inline const std::string kHeader =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
    "id='s1' from='good.example' version='1.0'>";
inline const std::string kClientHeaderEnd = "xml:lang='en'>";

inline std::string Between(const std::string& s, const std::string& a, const std::string& b) {
  auto i = s.find(a);
  if (i == std::string::npos) return {};
  i += a.size();
  return s.substr(i, s.find(b, i) - i);
}

// Client settings for LoginScript's account on a plain (no TLS) stream to `target`.
inline ClientConfig PlainClientConfig(const std::string& target) {
  ClientConfig cfg;
  cfg.target = target;
  cfg.domain = "good.example";
  cfg.user = "probe";
  cfg.password = "secret";
  cfg.tls_mode = TlsMode::kPlain;
  return cfg;
}

struct LoginScript {
  enum class Tls { kNone, kStarttls, kDirect } tls = Tls::kNone;
  std::string password = "secret";
  bool sha256 = true;
  // Optional: takes over after SASL success and the post-auth features (gets the user name).
  std::function<void(FakeConn&, const std::string&)> after_auth;
  int iterations = 4096;  // SCRAM i=
  bool plus = false;      // also offer SCRAM-SHA-*-PLUS (needs TLS)
  // XEP-0440 channel-binding types to advertise, e.g. {"tls-exporter"}; empty: no
  // advertisement, as ejabberd 23.01 (which binds to tls-unique only).
  std::vector<std::string> cb_types;
  int tls_max_version = 0;
  // Hostile STARTTLS: sent before and after <proceed/>, all in one segment.
  std::string before_proceed, after_proceed;
  // What the client sent: mechanism and gs2 header (shared so the test can read them).
  std::shared_ptr<std::string> seen = std::make_shared<std::string>();

  void operator()(FakeConn& c) const {
    if (tls == Tls::kDirect && !c.StartTls(tls_max_version)) return;
    if (c.ReadUntil(kClientHeaderEnd).empty()) return;
    if (tls == Tls::kStarttls) {
      c.Write(kHeader +
              "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
              "</stream:features>");
      if (c.ReadUntil("<starttls").empty()) return;
      c.ReadUntil("/>");
      c.Write(before_proceed + "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" + after_proceed);
      if (!c.StartTls(tls_max_version) || c.ReadUntil(kClientHeaderEnd).empty()) return;
    }
    std::string mech = sha256 ? "SCRAM-SHA-256" : "SCRAM-SHA-1";
    std::string offer = "<mechanism>" + mech + "</mechanism>";
    if (plus) offer = "<mechanism>" + mech + "-PLUS</mechanism>" + offer;
    std::string cb;
    for (const auto& type : cb_types) cb += "<channel-binding type='" + type + "'/>";
    if (!cb.empty()) cb = "<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>" + cb + "</sasl-channel-binding>";
    c.Write(kHeader + "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + offer +
            "<mechanism>PLAIN</mechanism></mechanisms>" + cb + "</stream:features>");
    std::string auth = c.ReadUntil("</auth>");
    if (auth.empty()) return;
    test::ScramServer scram(sha256, password);
    scram.iterations = iterations;
    scram.offered_plus = plus;
    std::string client_first = Base64Decode(Between(auth, "'>", "</auth>"));
    std::string user = Between(client_first, ",n=", ",");
    std::string first = scram.ServerFirst(client_first);
    *seen = Between(auth, "mechanism='", "'") + " " + scram.gs2_header();
    if (scram.gs2_header() == "p=tls-exporter,,") scram.cb_data = c.TlsExporter();
    if (scram.gs2_header() == "p=tls-server-end-point,,") scram.cb_data = c.TlsServerEndPoint();
    if (scram.gs2_header() == "p=tls-unique,,") scram.cb_data = c.TlsUnique();
    c.Write("<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + Base64Encode(first) + "</challenge>");
    std::string resp = c.ReadUntil("</response>");
    std::string final_msg = scram.ServerFinal(Base64Decode(Between(resp, ">", "</response>")));
    if (final_msg.empty()) {
      c.Write("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure></stream:stream>");
      c.WaitClosed();
      return;
    }
    c.Write("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + Base64Encode(final_msg) + "</success>");
    if (c.ReadUntil(kClientHeaderEnd).empty()) return;
    c.Write(kHeader +
            "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
            "<sm xmlns='urn:xmpp:sm:3'/></stream:features>");
    if (after_auth) return after_auth(c, user);
    std::string bind = c.ReadUntil("</iq>");
    c.Write("<iq type='result' id='" + Between(bind, "id='", "'") +
            "'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>probe@good.example/r1</jid></bind></iq>");
    // Answer pings and echo messages until the client closes.
    for (int i = 0; i < 100; ++i) {
      std::string s = c.ReadUntil(">", 5s);
      if (s.empty() || s.find("</stream:stream>") != std::string::npos) break;
      if (s.find("<iq") != std::string::npos) {
        s += c.ReadUntil("</iq>");
        c.Write("<iq type='result' id='" + Between(s, "id='", "'") + "' from='good.example'/>");
      }
    }
    c.Write("</stream:stream>");
  }
};

}  // namespace xp::test
