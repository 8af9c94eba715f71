// Every way a probe can end, as a name an operator can alert on. Kept distinct on purpose:
// "the server refused my password" and "the server never answered" page different people.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace xp {

enum class Outcome {
  kOk,
  kDnsError,          // name did not resolve
  kConnectRefused,    // RST on connect: nothing listening
  kConnectError,      // other connect failure (unreachable, reset while connecting)
  kTimeout,           // a deadline passed while waiting for the peer
  kTlsError,          // handshake failed for a reason other than the certificate
  kCertVerifyFailed,  // chain or host name did not verify
  kStarttlsMissing,   // TLS required but the server did not offer STARTTLS
  kStreamError,       // the server sent <stream:error/>
  kAuthFailed,        // SASL <failure/> (wrong password, account disabled, ...)
  kNoMechanism,       // no SASL mechanism both sides accept
  kBindFailed,        // resource binding refused
  kProtocolError,     // malformed XML or a reply that makes no sense
  kLimitExceeded,     // stanza too large or too deep: the peer is broken or hostile
  kClosed,            // the peer closed the stream or the connection
  kResumeFailed,      // XEP-0198 resumption refused (the caller then logs in afresh)
  kDeliveryFailed,    // the message or its receipt never arrived
  kConfigError,       // the probe itself is misconfigured (missing credentials, ...)
  // Appended, not inserted: callers may have stored the numeric values.
  kBacklogBudgetExceeded,  // stanzas held for later outgrew their byte budget (a flood)
  kSessionBudgetExceeded,  // one connection read more than its byte budget (login or total)
  kScramIterationsTooLow,  // SCRAM i= below the minimum: a weak or downgraded credential store
  kDnsTimeout,             // name resolution did not answer before the deadline
  kFeatureMissing,         // the server does not offer the service (service discovery lacks it)
  kServiceError,           // the service answered with an error (join, slot, enable refused)
  kUploadFailed,           // HTTP upload: PUT/GET failed, bad status, or the bytes came back different
  kS2sFailed,              // federation: the home server bounced a stanza for the remote domain
};

std::string_view OutcomeName(Outcome outcome);

// Thrown by the client layer; the probe layer catches it and turns it into metrics.
class ProbeError : public std::runtime_error {
 public:
  ProbeError(Outcome outcome, const std::string& detail) : std::runtime_error(detail), outcome_(outcome) {}
  Outcome outcome() const { return outcome_; }

 private:
  Outcome outcome_;
};

}  // namespace xp
