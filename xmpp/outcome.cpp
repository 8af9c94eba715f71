#include "outcome.h"

namespace xp {

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kDnsError:
      return "dns_error";
    case Outcome::kConnectRefused:
      return "connect_refused";
    case Outcome::kConnectError:
      return "connect_error";
    case Outcome::kTimeout:
      return "timeout";
    case Outcome::kTlsError:
      return "tls_error";
    case Outcome::kCertVerifyFailed:
      return "cert_verify_failed";
    case Outcome::kStarttlsMissing:
      return "starttls_missing";
    case Outcome::kStreamError:
      return "stream_error";
    case Outcome::kAuthFailed:
      return "auth_failed";
    case Outcome::kNoMechanism:
      return "no_mechanism";
    case Outcome::kBindFailed:
      return "bind_failed";
    case Outcome::kProtocolError:
      return "protocol_error";
    case Outcome::kLimitExceeded:
      return "limit_exceeded";
    case Outcome::kClosed:
      return "closed";
    case Outcome::kResumeFailed:
      return "resume_failed";
    case Outcome::kDeliveryFailed:
      return "delivery_failed";
    case Outcome::kConfigError:
      return "config_error";
    case Outcome::kBacklogBudgetExceeded:
      return "backlog_budget_exceeded";
    case Outcome::kSessionBudgetExceeded:
      return "session_budget_exceeded";
    case Outcome::kScramIterationsTooLow:
      return "scram_iterations_too_low";
    case Outcome::kDnsTimeout:
      return "dns_timeout";
    case Outcome::kFeatureMissing:
      return "feature_missing";
    case Outcome::kServiceError:
      return "service_error";
    case Outcome::kUploadFailed:
      return "upload_failed";
    case Outcome::kS2sFailed:
      return "s2s_failed";
  }
  return "unknown";
}

}  // namespace xp
