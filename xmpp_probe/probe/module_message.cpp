// message: the round trip a user feels. Two accounts (on different nodes when the peer names
// its own target); the receiver gets the message and its client sends a XEP-0184 receipt
// back, which is what "delivered" means to the sender.
#include "probe/modules.h"

namespace xp {

void ProbeMessage(const ModuleConfig& m, const std::string& target, Deadline deadline, ProbeResult& r) {
  XmppClient receiver(MakeClientConfig(m, m.peer, target, UniqueToken("probe-rx")));
  XmppClient sender(MakeClientConfig(m, m.account, target, UniqueToken("probe-tx")));
  receiver.Login(deadline);
  sender.Login(deadline);
  r.phases = sender.phases();
  AddConnectionMetrics(sender, r);

  std::string id = UniqueToken("msg");
  auto sent = Clock::now();
  sender.SendMessage(receiver.jid(), "xmpp_probe " + id, id, true, deadline);
  try {
    receiver.WaitFor([&](const Element& e) { return e.name == "message" && e.Attr("id") == id; }, deadline,
                     "the message at the receiver");
  } catch (const ProbeError& e) {
    if (e.outcome() == Outcome::kTimeout) throw ProbeError(Outcome::kDeliveryFailed, e.what());
    throw;
  }
  r.phases["deliver"] = SecondsSince(sent);
  try {
    sender.WaitFor(
        [&](const Element& e) {
          const Element* rcv = e.Child("received", kNsReceipts);
          return e.name == "message" && rcv && rcv->Attr("id") == id;
        },
        deadline, "the receipt at the sender");
  } catch (const ProbeError& e) {
    if (e.outcome() == Outcome::kTimeout) throw ProbeError(Outcome::kDeliveryFailed, e.what());
    throw;
  }
  r.phases["receipt"] = SecondsSince(sent);
  r.Add("probe_xmpp_message_round_trip_seconds", "From sending a message to receiving its delivery receipt.",
        r.phases["receipt"]);
  auto close_by = std::min(deadline, Clock::now() + std::chrono::seconds(1));
  sender.Close(close_by);
  receiver.Close(close_by);
}

}  // namespace xp
