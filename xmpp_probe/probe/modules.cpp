#include "probe/modules.h"

#include <atomic>
#include <random>

namespace xp {

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string UniqueToken(const char* prefix) {
  static std::atomic<unsigned long> counter{0};
  static const unsigned long run = std::random_device{}();
  return std::string(prefix) + "-" + std::to_string(run) + "-" + std::to_string(++counter);
}

void AddConnectionMetrics(const XmppClient& client, ProbeResult& r) {
  r.Add("probe_xmpp_tls", "Whether the stream is encrypted.", client.tls_active() ? 1 : 0);
  r.Add("probe_xmpp_starttls_offered", "Whether the server offered STARTTLS on the plain stream.",
        client.starttls_offered() ? 1 : 0);
  for (const auto& mech : client.mechanisms_offered()) {
    r.Add("probe_xmpp_sasl_mechanism_offered", "SASL mechanisms the server offered.", 1, {{"mechanism", mech}});
  }
  if (!client.tls_active()) return;
  const CertInfo& c = client.cert();
  r.Add("probe_ssl_earliest_cert_expiry", "Earliest notAfter of the presented chain, in Unix seconds.",
        static_cast<double>(c.earliest_expiry_unix));
  r.Add("probe_ssl_last_chain_expiry_timestamp_seconds", "notAfter of the leaf certificate, in Unix seconds.",
        static_cast<double>(c.leaf_expiry_unix));
  r.Add("probe_ssl_last_chain_info", "The leaf certificate's fingerprint and subject.", 1,
        {{"fingerprint_sha256", c.leaf_sha256}, {"subject", c.leaf_subject}});
  r.Add("probe_tls_version_info", "The negotiated TLS version.", 1, {{"version", c.tls_version}});
}

const std::map<std::string, Prober>& OneShotProbers() {
  static const std::map<std::string, Prober> probers = {
      {"c2s", ProbeC2s},         {"login", ProbeLogin}, {"message", ProbeMessage}, {"offline", ProbeOffline},
      {"mam", ProbeMam},         {"muc", ProbeMuc},     {"upload", ProbeUpload},   {"push", ProbePush},
      {"carbons", ProbeCarbons}, {"s2s", ProbeS2s},
  };
  return probers;
}

bool IsKnownProber(const std::string& name) {
  return name == "failover" || name == "e2e" || OneShotProbers().count(name) > 0;
}

ProbeResult RunProbe(const ModuleConfig& module, const std::string& target_in) {
  ProbeResult r;
  auto start = Clock::now();
  Deadline deadline = start + module.timeout;
  std::string target = target_in.empty() ? module.target : target_in;
  try {
    if (target.empty()) throw ProbeError(Outcome::kConfigError, "no target given and module has none");
    const auto& probers = OneShotProbers();
    const auto prober = probers.find(module.prober);
    if (prober == probers.end()) {
      throw ProbeError(Outcome::kConfigError, "prober '" + module.prober + "' is continuous; see /metrics");
    }
    prober->second(module, target, deadline, r);
    r.outcome = Outcome::kOk;
  } catch (const ProbeError& e) {
    r.outcome = e.outcome();
    r.detail = e.what();
  } catch (const std::exception& e) {
    r.outcome = Outcome::kConfigError;
    r.detail = e.what();
  }
  r.duration_seconds = SecondsSince(start);
  return r;
}

}  // namespace xp
