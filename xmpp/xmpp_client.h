// A synchronous XMPP client built for measuring: each phase of a login is timed separately,
// each failure is a named Outcome, and every wait has a deadline. One instance is one stream;
// it is not thread-safe (the failover module runs one per thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connection.h"
#include "outcome.h"
#include "xml_stream.h"

namespace xp {

enum class TlsMode { kStarttls, kDirect, kPlain };

// What one session may make the client read and hold, in bytes. Every budget that runs out
// ends the session with its own outcome and closes the connection; memory never grows with
// what a hostile or broken server sends. The defaults fit the probe's MemoryMax (256M) with
// room for dozens of concurrent sessions.
struct ByteBudgets {
  // Stanzas received while waiting for another (the backlog Receive() drains first), counted
  // as the memory their parsed trees take, not their size on the wire: a stanza of empty
  // child elements costs about forty times its wire size once parsed.
  std::size_t backlog_bytes = 4 * 1024 * 1024;
  // Everything read from connect until the session is bound or resumed. Before that the peer
  // has not even proved it is the server (pre-TLS, pre-SASL); a real login reads ~10 KB.
  std::uint64_t login_bytes = 1024 * 1024;
  // Everything read over one connection; 0: no cap. Off by default because continuous
  // sessions (failover) read a few KB/s for days: memory is bounded by the budgets above.
  std::uint64_t session_bytes = 0;
};

// Resolves host:port to endpoints (throws ProbeError). Empty: getaddrinfo.
using Resolver = std::function<std::vector<Endpoint>(const std::string& host, int port)>;

struct ClientConfig {
  std::string target;  // host:port the TCP connection goes to (a load balancer, a node)
  std::string domain;  // XMPP domain: stream 'to', SNI and the certificate name check
  std::string user;    // local part
  std::string password;
  std::string resource = "xmpp_probe";
  TlsMode tls_mode = TlsMode::kStarttls;
  std::shared_ptr<TlsContext> tls;  // required unless tls_mode is kPlain
  // Preference order. PLAIN is only tried when listed (and then only over TLS).
  std::vector<std::string> mechanisms = {"SCRAM-SHA-256", "SCRAM-SHA-1"};
  StreamLimits limits;
  std::string source_address;        // local address to connect from (empty: any)
  bool auto_receipts = true;         // answer XEP-0184 requests like a real client would
  std::size_t backlog_limit = 1000;  // stanzas; the byte budget below usually binds first
  ByteBudgets budgets;
  // Runs on a helper thread under the connection deadline, so a resolver that never answers
  // ends the attempt with kDnsTimeout instead of hanging the caller. Tests inject one.
  Resolver resolver;
  // SCRAM i= below this is refused (kScramIterationsTooLow): RFC 7677 asks for at least 4096.
  int min_scram_iterations = 4096;
};

// XEP-0198 state that outlives a broken connection so a new one can resume it.
struct SmState {
  bool enabled = false;
  std::string id;                                             // empty: the server did not offer resumption
  std::uint32_t inbound = 0;                                  // stanzas we handled (our 'h')
  std::uint32_t outbound = 0;                                 // stanzas we sent since enable
  std::deque<std::pair<std::uint32_t, std::string>> unacked;  // seq -> stanza
};

// The defined condition of a stanza's <error/> ("item-not-found", ...), with its text when
// the server gave one; "undefined-condition" when there is none.
std::string StanzaErrorText(const Element& stanza);

class XmppClient {
 public:
  explicit XmppClient(ClientConfig config);
  ~XmppClient();
  XmppClient(const XmppClient&) = delete;
  XmppClient& operator=(const XmppClient&) = delete;

  // dns, connect, tls/starttls, stream features. Throws ProbeError.
  void Connect(Deadline deadline);
  void Authenticate(Deadline deadline);
  void Bind(Deadline deadline);
  void Login(Deadline deadline) {
    Connect(deadline);
    Authenticate(deadline);
    Bind(deadline);
  }
  // Sends </stream:stream> and waits briefly for the server's; never throws.
  void Close(Deadline deadline);

  // Seconds spent in each phase so far: dns, connect, starttls, tls, auth, bind.
  const std::map<std::string, double>& phases() const { return phases_; }
  const Element& features() const { return features_; }
  bool starttls_offered() const { return starttls_offered_; }
  const std::vector<std::string>& mechanisms_offered() const { return mechanisms_offered_; }
  const std::string& mechanism_used() const { return mechanism_used_; }
  const CertInfo& cert() const { return conn_.cert(); }
  bool tls_active() const { return conn_.tls(); }
  const std::string& jid() const { return jid_; }
  std::string bare_jid() const { return config_.user + "@" + config_.domain; }
  const ClientConfig& config() const { return config_; }
  int fd() const { return conn_.fd(); }
  // Budget accounting, for tests and diagnostics.
  std::size_t backlog_bytes() const { return backlog_bytes_; }
  std::uint64_t bytes_read() const { return bytes_read_; }

  void Send(const std::string& stanza, Deadline deadline);
  // Next stanza, or nullopt when the deadline passes first. Stream errors throw kStreamError,
  // a closed stream kClosed. XEP-0198 <r/>/<a/>, pings and receipt requests are answered here.
  std::optional<Element> Receive(Deadline deadline);
  // Receives until a stanza matches; others go to a bounded backlog that Receive() drains
  // first. Throws kTimeout naming `what`.
  Element WaitFor(const std::function<bool(const Element&)>& match, Deadline deadline, const std::string& what);

  std::string NextId(const char* prefix);
  void SendPresence(Deadline deadline);
  // XEP-0199 to the server; returns the round trip in seconds.
  double Ping(Deadline deadline);
  // Message with a body; request_receipt adds XEP-0184 <request/>.
  void SendMessage(const std::string& to, const std::string& body, const std::string& id, bool request_receipt,
                   Deadline deadline);
  // Sends <iq type=TYPE to=TO>PAYLOAD</iq> (no 'to' when empty; PAYLOAD is trusted XML) and
  // returns the reply with its id, a result or an error: what an error means is the caller's
  // call. Throws kTimeout naming `what`.
  Element Iq(const std::string& type, const std::string& to, const std::string& payload, Deadline deadline,
             const std::string& what);
  // XEP-0313: messages archived with `with`, newest last, at most max.
  std::vector<Element> MamQuery(const std::string& with, int max, Deadline deadline);

  // XEP-0198. EnableSm returns false when the server does not offer it.
  bool EnableSm(bool resume, Deadline deadline);
  void RequestAck(Deadline deadline);
  const SmState& sm() const { return sm_; }
  // After a reconnect (Connect()+Authenticate() on this same object): resumes the previous
  // stream, resending what the server had not acknowledged. Throws kResumeFailed when the
  // server refuses; then Bind() and TakeUnacked() to decide what to send again.
  void Resume(Deadline deadline);
  std::vector<std::string> TakeUnacked();

 private:
  void OpenStream(Deadline deadline);
  Element ReadFeatures(Deadline deadline);
  void StartTlsNow(Deadline deadline, const char* phase);
  struct Held {
    Element element;
    std::size_t bytes;  // Footprint() when it was held
  };
  void Hold(Element e);
  Element TakeHeld(const std::deque<Held>::iterator& it);
  void ClearBacklog();
  [[noreturn]] void OverBudget(Outcome outcome, const std::string& why);
  std::optional<Element> ReadRaw(Deadline deadline);
  bool HandleInternally(const Element& e, Deadline deadline);
  void AckUpTo(std::uint32_t h);
  void Phase(const std::string& name, Clock::time_point start);

  ClientConfig config_;
  Connection conn_;
  XmlStream stream_;
  Element features_;
  bool starttls_offered_ = false;
  std::vector<std::string> mechanisms_offered_;
  std::string mechanism_used_;
  std::string jid_;
  std::map<std::string, double> phases_;
  std::deque<Held> backlog_;
  std::size_t backlog_bytes_ = 0;
  std::uint64_t bytes_read_ = 0;  // on this connection
  bool established_ = false;      // bound or resumed: the login byte budget no longer applies
  SmState sm_;
  std::uint64_t next_id_ = 0;
};

}  // namespace xp
