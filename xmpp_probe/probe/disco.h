// Service discovery (XEP-0030) and reply checks shared by the modules that probe a server
// feature (muc, upload, push, carbons): a feature the server does not announce ends the
// probe with feature_missing, a service that answers with an error with service_error, and
// a stanza that never comes with delivery_failed, each naming what was missing.
#pragma once

#include <functional>
#include <set>
#include <string>

#include "xmpp/xmpp_client.h"

namespace xp {

// disco#info features of `jid`. An error reply (no such service, not reachable) is
// kFeatureMissing naming `what`.
std::set<std::string> DiscoFeatures(XmppClient& client, const std::string& jid, Deadline deadline,
                                    const std::string& what);
// Throws kFeatureMissing unless `jid` announces `feature`.
void RequireFeature(XmppClient& client, const std::string& jid, const std::string& feature, Deadline deadline,
                    const std::string& what);
// The first item of `jid`'s disco#items (at most max_items looked at) announcing `feature`;
// kFeatureMissing when none does.
std::string FindService(XmppClient& client, const std::string& jid, const std::string& feature, Deadline deadline,
                        const std::string& what, int max_items = 20);
// An IQ reply of type error becomes kServiceError: "<what> refused: <condition>".
void ExpectResult(const Element& reply, const std::string& what);
// WaitFor, with a timeout turned into kDeliveryFailed: the stanza the server should have
// delivered did not come.
Element AwaitDelivery(XmppClient& client, const std::function<bool(const Element&)>& match, Deadline deadline,
                      const std::string& what);

}  // namespace xp
