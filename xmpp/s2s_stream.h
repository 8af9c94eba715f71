// The opening of a server-to-server stream (RFC 6120, namespace jabber:server), as far as a
// probe can go without being a server: TCP connect, stream header, STARTTLS, the TLS
// handshake with the remote domain's certificate verified, and the features the remote
// server offers after TLS (SASL EXTERNAL, dialback). It authenticates nothing: dialback
// needs the originating domain's server to answer a verification, and SASL EXTERNAL a
// certificate of that domain, neither of which a probe holds. So this measures whether the
// remote federation endpoint is reachable, encrypted and verifiable, and what it would accept.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "connection.h"
#include "xml_stream.h"

namespace xp {

inline constexpr std::string_view kNsServer = "jabber:server";
inline constexpr std::string_view kNsDialbackFeature = "urn:xmpp:features:dialback";

struct S2sConfig {
  std::string target;               // host:port of the remote s2s listener (default port 5269)
  std::string to;                   // the remote domain: stream 'to', SNI, certificate name
  std::string from;                 // the originating domain the stream names
  std::shared_ptr<TlsContext> tls;  // verifies the remote certificate; required
  StreamLimits limits;
  std::uint64_t max_bytes = 256 * 1024;  // everything the remote may send us before we close
  std::string source_address;
  std::function<std::vector<Endpoint>(const std::string&, int)> resolver;  // tests; empty: getaddrinfo
};

class S2sStream {
 public:
  explicit S2sStream(S2sConfig config);
  S2sStream(const S2sStream&) = delete;
  S2sStream& operator=(const S2sStream&) = delete;

  // dns, connect, stream open, STARTTLS, TLS, features again. Throws ProbeError: connect
  // outcomes, kStarttlsMissing when the plain stream offers no STARTTLS, kTlsError /
  // kCertVerifyFailed, kStreamError, kTimeout, kSessionBudgetExceeded.
  void Negotiate(Deadline deadline);
  // </stream:stream>, waits briefly for the remote's; never throws.
  void Close(Deadline deadline);

  // Seconds: s2s_dns, s2s_connect, s2s_starttls (header to <proceed/>), s2s_tls (handshake),
  // s2s_features (stream restart to the features over TLS). Filled as far as it got.
  const std::map<std::string, double>& phases() const { return phases_; }
  bool tls_active() const { return conn_.tls(); }
  const CertInfo& cert() const { return conn_.cert(); }
  // Of the features over TLS.
  const std::vector<std::string>& mechanisms_offered() const { return mechanisms_; }
  bool dialback_offered() const { return dialback_; }
  // The remote's stream header over TLS: its 'from' should be the domain we asked for.
  const std::string& remote_from() const { return remote_from_; }

 private:
  void Send(const std::string& data, Deadline deadline);
  Element Next(Deadline deadline, const char* what);
  void Phase(const char* name, Clock::time_point start);

  S2sConfig config_;
  Connection conn_;
  XmlStream stream_;
  std::map<std::string, double> phases_;
  std::vector<std::string> mechanisms_;
  bool dialback_ = false;
  std::string remote_from_;
  std::uint64_t bytes_read_ = 0;
};

}  // namespace xp
