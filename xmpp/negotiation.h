// Stream negotiation without I/O: what to send and how to judge what arrived, for STARTTLS,
// SASL (SCRAM with channel binding, PLAIN) and resource binding. The blocking XmppClient and
// the load generator's non-blocking event loop both drive these, so a server gets the same
// protocol and a failure the same Outcome on either path.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "connection.h"
#include "scram.h"
#include "xml_stream.h"

namespace xp {

inline constexpr std::string_view kNsSaslCb = "urn:xmpp:sasl-cb:0";  // XEP-0440
inline constexpr std::string_view kStartTlsRequest = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";

std::string StreamHeader(std::string_view domain);
// The answer to <starttls/>: returns on <proceed/>, throws kTlsError otherwise.
void CheckProceed(const Element& reply);
std::vector<std::string> OfferedMechanisms(const Element& features);

struct SaslPlan {
  std::string mechanism;  // as sent, e.g. "SCRAM-SHA-256-PLUS"
  CbFlag flag = CbFlag::kNone;
  std::string cb_type;  // with kBound: "tls-exporter", "tls-server-end-point", "tls-unique"
  std::string cb_data;
};

// The first of `wanted` the server offers (kNoMechanism when none; kConfigError when it is
// not implemented here). A SCRAM choice becomes its -PLUS variant when the server offers that
// and a binding type both sides know is available on `ssl` (nullptr: plain TCP). The type is
// taken from the server's XEP-0440 list when it sends one (tls-exporter first), else
// tls-unique, RFC 5802's default and the only one ejabberd 23.01 binds to. Without -PLUS over
// TLS the flag is 'y', so a server that does support binding sees a stripped offer.
SaslPlan ChooseSasl(const std::vector<std::string>& wanted, const Element& features, SSL* ssl);

class SaslExchange {
 public:
  SaslExchange(SaslPlan plan, const std::string& user, const std::string& password,
               int min_iterations = ScramClient::kMinIterations, std::string cnonce = {});
  std::string Start();  // the <auth/> element
  // One element in the SASL namespace from the server; returns what to send next (empty:
  // nothing). Throws kAuthFailed (failure, bad server signature), kProtocolError,
  // kScramIterationsTooLow. done() after a verified <success/>.
  std::string OnElement(const Element& e);
  bool done() const { return step_ == Step::kDone; }

 private:
  enum class Step { kStart, kFirst, kFinal, kSuccess, kDone };
  SaslPlan plan_;
  std::string user_;
  std::string password_;
  int min_iterations_;
  std::unique_ptr<ScramClient> scram_;  // null for PLAIN
  Step step_ = Step::kStart;
};

std::string BindRequest(std::string_view id, std::string_view resource);
// The JID the server bound; throws kBindFailed on an error reply or a result without one.
std::string BoundJid(const Element& reply);

}  // namespace xp
