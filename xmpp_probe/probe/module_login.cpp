// login: what a user waits for when opening the app. Full login with per-phase durations
// (dns, connect, starttls, tls, auth, bind) and one ping to prove the session works.
#include "probe/modules.h"

namespace xp {

void ProbeLogin(const ModuleConfig& m, const std::string& target, Deadline deadline, ProbeResult& r) {
  XmppClient client(MakeClientConfig(m, m.account, target, UniqueToken("probe")));
  try {
    client.Login(deadline);
  } catch (...) {
    r.phases = client.phases();
    throw;
  }
  r.phases = client.phases();
  r.phases["ping"] = client.Ping(deadline);
  AddConnectionMetrics(client, r);
  r.Add("probe_xmpp_sasl_mechanism_used", "The SASL mechanism the login used.", 1,
        {{"mechanism", client.mechanism_used()}});
  client.Close(std::min(deadline, Clock::now() + std::chrono::seconds(1)));
}

}  // namespace xp
