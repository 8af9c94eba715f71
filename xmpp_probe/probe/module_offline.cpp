// offline: a message sent while the peer is away must be waiting at its next login. The peer
// account must have no other session online, or the server delivers it there instead.
#include "probe/modules.h"

namespace xp {

void ProbeOffline(const ModuleConfig& m, const std::string& target, Deadline deadline, ProbeResult& r) {
  std::string id = UniqueToken("offline");
  {
    XmppClient sender(MakeClientConfig(m, m.account, target, UniqueToken("probe-tx")));
    sender.Login(deadline);
    r.phases = sender.phases();
    AddConnectionMetrics(sender, r);
    sender.SendMessage(m.peer.user + "@" + sender.config().domain, "xmpp_probe " + id, id, false, deadline);
    // The server answers in order: once the ping returns, the message has been routed and
    // stored, so the receiver's login below cannot overtake it.
    sender.Ping(deadline);
    sender.Close(std::min(deadline, Clock::now() + std::chrono::seconds(1)));
  }
  XmppClient receiver(MakeClientConfig(m, m.peer, target, UniqueToken("probe-rx")));
  receiver.Login(deadline);
  auto available = Clock::now();
  receiver.SendPresence(deadline);
  int flushed = 0;
  try {
    receiver.WaitFor(
        [&](const Element& e) {
          if (e.name != "message" || !e.Child("body")) return false;
          ++flushed;
          return e.Attr("id") == id;
        },
        deadline, "the offline message");
  } catch (const ProbeError& e) {
    if (e.outcome() == Outcome::kTimeout) throw ProbeError(Outcome::kDeliveryFailed, e.what());
    throw;
  }
  r.phases["offline_delivery"] = SecondsSince(available);
  r.Add("probe_xmpp_offline_messages_flushed", "Stored messages delivered at login, ours included.", flushed);
  receiver.Close(std::min(deadline, Clock::now() + std::chrono::seconds(1)));
}

}  // namespace xp
