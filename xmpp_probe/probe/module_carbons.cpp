// carbons: a user with two devices sees the whole conversation on both (XEP-0280). Two
// resources of the account (A and B) enable carbons and become available; the peer writes to A's full JID and B
// must get a `received` copy; A writes to the peer and B must get a `sent` copy. Full JIDs
// on purpose: a message to the bare JID goes to every highest-priority resource, which would
// deliver it to B directly and prove nothing about copies.
#include "probe/disco.h"
#include "probe/modules.h"

namespace xp {

namespace {

constexpr std::string_view kNsCarbons = "urn:xmpp:carbons:2";

void EnableCarbons(XmppClient& c, Deadline deadline) {
  ExpectResult(
      c.Iq("set", "", "<enable xmlns='" + std::string(kNsCarbons) + "'/>", deadline, "the carbons enable result"),
      "enabling carbons for " + c.jid());
}

// A carbon of kind `kind` (received, sent) wrapping the message with `id`, from our own bare
// JID: a copy claiming to come from anyone else is a spoof (XEP-0280 section 11).
bool IsCarbon(const Element& e, std::string_view kind, const std::string& id, const std::string& own_bare) {
  if (e.name != "message" || e.Attr("from") != own_bare) return false;
  const Element* wrapper = e.Child(kind, kNsCarbons);
  const Element* forwarded = wrapper ? wrapper->Child("forwarded", kNsForward) : nullptr;
  const Element* inner = forwarded ? forwarded->Child("message") : nullptr;
  return inner && inner->Attr("id") == id;
}

}  // namespace

void ProbeCarbons(const ModuleConfig& m, const std::string& target, Deadline deadline, ProbeResult& r) {
  XmppClient a(MakeClientConfig(m, m.account, target, UniqueToken("probe-carbons-a")));
  XmppClient b(MakeClientConfig(m, m.account, target, UniqueToken("probe-carbons-b")));
  XmppClient peer(MakeClientConfig(m, m.peer, target, UniqueToken("probe-carbons-peer")));
  a.Login(deadline);
  r.phases = a.phases();
  AddConnectionMetrics(a, r);
  RequireFeature(a, a.config().domain, std::string(kNsCarbons), deadline, "message carbons");
  b.Login(deadline);
  peer.Login(deadline);
  auto t = Clock::now();
  EnableCarbons(a, deadline);
  EnableCarbons(b, deadline);
  // ejabberd copies only to resources with available presence, as a client online has.
  a.SendPresence(deadline);
  b.SendPresence(deadline);
  r.phases["enable"] = SecondsSince(t);
  const std::string own_bare = a.bare_jid();

  std::string id = UniqueToken("carbon-rx");
  t = Clock::now();
  peer.SendMessage(a.jid(), "xmpp_probe " + id, id, false, deadline);
  AwaitDelivery(
      b, [&](const Element& e) { return IsCarbon(e, "received", id, own_bare); }, deadline,
      "the 'received' carbon at the second resource");
  r.phases["received_copy"] = SecondsSince(t);
  AwaitDelivery(
      a, [&](const Element& e) { return e.name == "message" && e.Attr("id") == id; }, deadline,
      "the message at the resource it was sent to");

  id = UniqueToken("carbon-tx");
  t = Clock::now();
  a.SendMessage(peer.jid(), "xmpp_probe " + id, id, false, deadline);
  AwaitDelivery(
      b, [&](const Element& e) { return IsCarbon(e, "sent", id, own_bare); }, deadline,
      "the 'sent' carbon at the second resource");
  r.phases["sent_copy"] = SecondsSince(t);

  auto close_by = std::min(deadline, Clock::now() + std::chrono::seconds(1));
  a.Close(close_by);
  b.Close(close_by);
  peer.Close(close_by);
}

}  // namespace xp
