#include "probe/disco.h"

namespace xp {

namespace {
constexpr std::string_view kNsDiscoInfo = "http://jabber.org/protocol/disco#info";
constexpr std::string_view kNsDiscoItems = "http://jabber.org/protocol/disco#items";
}  // namespace

std::set<std::string> DiscoFeatures(XmppClient& client, const std::string& jid, Deadline deadline,
                                    const std::string& what) {
  Element reply =
      client.Iq("get", jid, "<query xmlns='" + std::string(kNsDiscoInfo) + "'/>", deadline, "disco#info of " + jid);
  if (reply.Attr("type") == "error") {
    throw ProbeError(Outcome::kFeatureMissing,
                     what + ": " + jid + " answered disco#info with " + StanzaErrorText(reply));
  }
  std::set<std::string> features;
  if (const Element* q = reply.Child("query", kNsDiscoInfo)) {
    for (const auto& c : q->children) {
      if (c.name == "feature") features.insert(c.Attr("var"));
    }
  }
  return features;
}

void RequireFeature(XmppClient& client, const std::string& jid, const std::string& feature, Deadline deadline,
                    const std::string& what) {
  if (DiscoFeatures(client, jid, deadline, what).count(feature) == 0) {
    throw ProbeError(Outcome::kFeatureMissing, what + ": " + jid + " does not announce " + feature);
  }
}

std::string FindService(XmppClient& client, const std::string& jid, const std::string& feature, Deadline deadline,
                        const std::string& what, int max_items) {
  Element reply =
      client.Iq("get", jid, "<query xmlns='" + std::string(kNsDiscoItems) + "'/>", deadline, "disco#items of " + jid);
  if (reply.Attr("type") == "error") {
    throw ProbeError(Outcome::kFeatureMissing,
                     what + ": " + jid + " answered disco#items with " + StanzaErrorText(reply));
  }
  int looked = 0;
  if (const Element* q = reply.Child("query", kNsDiscoItems)) {
    for (const auto& item : q->children) {
      if (item.name != "item" || item.Attr("jid").empty()) continue;
      if (++looked > max_items) break;
      // Items that do not answer disco#info are someone else's problem, not this service.
      try {
        if (DiscoFeatures(client, item.Attr("jid"), deadline, what).count(feature)) return item.Attr("jid");
      } catch (const ProbeError& e) {
        if (e.outcome() != Outcome::kFeatureMissing) throw;
      }
    }
  }
  throw ProbeError(Outcome::kFeatureMissing,
                   what + ": none of the " + std::to_string(looked) + " items of " + jid + " announces " + feature);
}

void ExpectResult(const Element& reply, const std::string& what) {
  if (reply.Attr("type") == "error") {
    throw ProbeError(Outcome::kServiceError, what + " refused: " + StanzaErrorText(reply));
  }
}

Element AwaitDelivery(XmppClient& client, const std::function<bool(const Element&)>& match, Deadline deadline,
                      const std::string& what) {
  try {
    return client.WaitFor(match, deadline, what);
  } catch (const ProbeError& e) {
    if (e.outcome() == Outcome::kTimeout) throw ProbeError(Outcome::kDeliveryFailed, e.what());
    throw;
  }
}

}  // namespace xp
