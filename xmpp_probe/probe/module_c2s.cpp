// c2s: can a client reach the service and set up a secure stream? Connect, TLS (STARTTLS or
// direct), stream features; reports the certificate and the SASL mechanisms offered.
#include "probe/modules.h"

namespace xp {

void ProbeC2s(const ModuleConfig& m, const std::string& target, Deadline deadline, ProbeResult& r) {
  ClientConfig cfg;
  cfg.target = target;
  cfg.domain = m.xmpp.domain.empty() ? SplitHostPort(target, 5222).first : m.xmpp.domain;
  cfg.tls_mode = m.xmpp.tls;
  cfg.limits.max_stanza_bytes = m.xmpp.max_stanza_bytes;
  cfg.limits.max_depth = m.xmpp.max_depth;
  cfg.source_address = m.xmpp.source_address;
  if (cfg.tls_mode != TlsMode::kPlain)
    cfg.tls = std::make_shared<TlsContext>(TlsOptions{m.xmpp.ca_file, m.xmpp.insecure_skip_verify});
  XmppClient client(cfg);
  try {
    client.Connect(deadline);
  } catch (...) {
    r.phases = client.phases();
    throw;
  }
  r.phases = client.phases();
  AddConnectionMetrics(client, r);
  client.Close(std::min(deadline, Clock::now() + std::chrono::seconds(1)));
}

}  // namespace xp
