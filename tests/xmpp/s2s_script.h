// A remote server's s2s listener for unit tests (S2sStream, the s2s prober): STARTTLS with
// the fake server's certificate, then the features it is told to offer.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "fake_server.h"

namespace xp::test {

inline const std::string kS2sHeader =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
    "id='s2s1' from='remote.example' to='home.example' version='1.0'>";
inline const std::string kStarttlsFeature =
    "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>";

// A remote server's s2s listener. `tls_features`: what it offers after TLS. `seen`: the first
// stream header the probe sent (to check to/from/namespace).
struct S2sScript {
  bool offer_starttls = true;
  std::string tls_features =
      "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>EXTERNAL</mechanism>"
      "</mechanisms><dialback xmlns='urn:xmpp:features:dialback'><errors/></dialback></stream:features>";
  std::shared_ptr<std::string> seen = std::make_shared<std::string>();

  void operator()(FakeConn& c) const {
    *seen = c.ReadUntil("xml:lang='en'>");
    if (seen->empty()) return;
    if (!offer_starttls) {
      c.Write(kS2sHeader + "<stream:features><dialback xmlns='urn:xmpp:features:dialback'/></stream:features>");
      c.WaitClosed(std::chrono::seconds(3));
      return;
    }
    c.Write(kS2sHeader + kStarttlsFeature);
    if (c.ReadUntil("<starttls").empty()) return;
    c.ReadUntil("/>");
    c.Write("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    if (!c.StartTls() || c.ReadUntil("xml:lang='en'>").empty()) return;
    c.Write(kS2sHeader + tls_features);
    if (!c.ReadUntil("</stream:stream>").empty()) c.Write("</stream:stream>");
  }
};

}  // namespace xp::test
