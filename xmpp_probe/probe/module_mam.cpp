// mam: a message a user sent is in their archive (XEP-0313), which is what a second device
// or a reinstalled app will show. Queries until found or the deadline passes.
#include <thread>

#include "probe/modules.h"

namespace xp {

void ProbeMam(const ModuleConfig& m, const std::string& target, Deadline deadline, ProbeResult& r) {
  XmppClient sender(MakeClientConfig(m, m.account, target, UniqueToken("probe-mam")));
  sender.Login(deadline);
  r.phases = sender.phases();
  AddConnectionMetrics(sender, r);
  std::string id = UniqueToken("mam");
  std::string peer = m.peer.user + "@" + sender.config().domain;
  auto sent = Clock::now();
  sender.SendMessage(peer, "xmpp_probe " + id, id, false, deadline);
  sender.Ping(deadline);
  int queries = 0;
  for (; queries < 100 && Clock::now() < deadline; ++queries) {
    auto found = sender.MamQuery(peer, 20, deadline);
    bool hit = false;
    for (const auto& msg : found) hit = hit || msg.ChildText("body").find(id) != std::string::npos;
    if (hit) {
      r.phases["archive"] = SecondsSince(sent);
      r.Add("probe_xmpp_mam_queries", "Archive queries needed until the message showed up.", queries + 1);
      sender.Close(std::min(deadline, Clock::now() + std::chrono::seconds(1)));
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  throw ProbeError(Outcome::kDeliveryFailed,
                   "message not found in the archive after " + std::to_string(queries) + " queries");
}

}  // namespace xp
