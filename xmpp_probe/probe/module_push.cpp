// push: a phone that is asleep still learns of a new message (XEP-0357). The probe plays the
// app server itself: a session of its own (push.app_server) waits online while the account
// registers push to that session's full JID with a fixed node, then goes fully offline; the
// peer sends the account a message, and the server must publish a notification to the app
// server (a pubsub IQ, answered with a result as a real app server does). At the end the
// account logs in again, disables the registration and takes its stored messages, so neither
// registrations nor offline messages pile up. The account should have no other session: one
// would receive the message instead of the notification being sent.
#include "probe/disco.h"
#include "probe/modules.h"

namespace xp {

namespace {

constexpr std::string_view kNsPush = "urn:xmpp:push:0";
constexpr std::string_view kNsPubsub = "http://jabber.org/protocol/pubsub";

bool IsNotification(const Element& e, const std::string& node) {
  if (e.name != "iq" || e.Attr("type") != "set") return false;
  const Element* pubsub = e.Child("pubsub", kNsPubsub);
  const Element* publish = pubsub ? pubsub->Child("publish") : nullptr;
  return publish && publish->Attr("node") == node;
}

}  // namespace

void ProbePush(const ModuleConfig& m, const std::string& target, Deadline deadline, ProbeResult& r) {
  XmppClient app(MakeClientConfig(m, m.push.app_server, target, UniqueToken("probe-push-app")));
  app.Login(deadline);
  const std::string node = m.push.node;
  const std::string account_jid = m.account.user + "@" + app.config().domain;
  {
    XmppClient user(MakeClientConfig(m, m.account, target, UniqueToken("probe-push")));
    user.Login(deadline);
    r.phases = user.phases();
    AddConnectionMetrics(user, r);
    RequireFeature(user, account_jid, std::string(kNsPush), deadline, "push notifications");
    auto t = Clock::now();
    ExpectResult(user.Iq("set", "",
                         "<enable xmlns='" + std::string(kNsPush) + "' jid='" + XmlEscape(app.jid()) + "' node='" +
                             XmlEscape(node) + "'/>",
                         deadline, "the push enable result"),
                 "enabling push to " + app.jid());
    r.phases["enable"] = SecondsSince(t);
    // The server answers the closing stream once the session is gone, so the message below
    // finds the account offline (a session still open would get it, and no notification).
    user.Close(std::min(deadline, Clock::now() + std::chrono::seconds(2)));
  }

  XmppClient sender(MakeClientConfig(m, m.peer, target, UniqueToken("probe-push-tx")));
  sender.Login(deadline);
  const std::string id = UniqueToken("push");
  auto sent = Clock::now();
  sender.SendMessage(account_jid, "xmpp_probe " + id, id, false, deadline);
  Element notification = AwaitDelivery(
      app, [&](const Element& e) { return IsNotification(e, node); }, deadline,
      "the push notification at the app server " + app.jid());
  r.phases["push"] = SecondsSince(sent);
  app.Send("<iq type='result' id='" + XmlEscape(notification.Attr("id")) + "' to='" +
               XmlEscape(notification.Attr("from")) + "'/>",
           deadline);
  r.Add("probe_xmpp_push_latency_seconds", "From sending the offline account a message to its push notification.",
        r.phases["push"]);

  // Clean up: no registration left behind (each run's app server has a JID of its own, so a
  // registration a failed run left stays until ejabberd's notification to it bounces), and
  // the stored message taken, so the offline queue stays empty.
  auto close_by = std::min(deadline, Clock::now() + std::chrono::seconds(2));
  XmppClient user(MakeClientConfig(m, m.account, target, UniqueToken("probe-push")));
  user.Login(deadline);
  ExpectResult(user.Iq("set", "",
                       "<disable xmlns='" + std::string(kNsPush) + "' jid='" + XmlEscape(app.jid()) + "' node='" +
                           XmlEscape(node) + "'/>",
                       deadline, "the push disable result"),
               "disabling push to " + app.jid());
  user.SendPresence(deadline);
  // The stored message normally arrives now. Another session of the account (a second run of
  // this module at the same moment, e.g. `check` while Prometheus probes) may have been handed
  // it instead: that says nothing about push, so it is reported, not failed; whatever is left
  // in the offline queue arrives at the next run's login and is skipped there.
  bool fetched = true;
  try {
    AwaitDelivery(
        user, [&](const Element& e) { return e.name == "message" && e.Attr("id") == id; },
        std::min(deadline, Clock::now() + std::chrono::seconds(2)), "the announced message at the next login");
  } catch (const ProbeError& e) {
    if (e.outcome() != Outcome::kDeliveryFailed) throw;
    fetched = false;
  }
  r.Add("probe_xmpp_push_message_fetched",
        "1 when the message the notification announced was delivered at the account's next login.", fetched ? 1 : 0);
  user.Close(close_by);
  sender.Close(close_by);
  app.Close(close_by);
}

}  // namespace xp
