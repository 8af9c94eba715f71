// s2s: federation, as a user on another domain sees it. Two parts, in this order:
//  1. the remote domain's federation endpoint (the module's target, e.g. peer.test's :5269),
//     opened as a server would: stream to=<remote> from=<home> in jabber:server, STARTTLS,
//     the remote certificate verified for the remote domain, and the features it then offers
//     (SASL EXTERNAL, dialback). The probe authenticates nothing there: dialback needs the home
//     server to answer the remote's verification and SASL EXTERNAL a certificate of the home
//     domain, neither of which the probe holds (xmpp/s2s_stream.h);
//  2. a message with a XEP-0184 receipt request from an account of the home domain (logged
//     in through the load balancer) to an account on the remote domain (logged in at the
//     remote server): the home server's own s2s stream carries it, with its own connect, TLS
//     and SASL EXTERNAL/dialback, and the receipt comes back over the remote's stream the
//     other way. A bounce from either server (remote-server-not-found, ...) is s2s_failed;
//     silence until the deadline is delivery_failed.
#include <algorithm>

#include "probe/modules.h"
#include "xmpp/s2s_stream.h"

namespace xp {

namespace {

// Waits at `waiter` for a stanza matching `match` while watching `bouncer` for an error
// message about `id` (a server that cannot deliver returns the stanza to its sender with
// type='error'). Both sessions are read in turn, `bouncer` only for what is already there.
Element AwaitAcross(XmppClient& waiter, const std::function<bool(const Element&)>& match, XmppClient& bouncer,
                    const std::string& id, Deadline deadline, const std::string& what) {
  // The message itself comes back with its id; a receipt with the id in its <received/>.
  auto bounced = [&](const Element& e) {
    const Element* rcv = e.Child("received", kNsReceipts);
    return e.name == "message" && e.Attr("type") == "error" && (e.Attr("id") == id || (rcv && rcv->Attr("id") == id));
  };
  for (int slice = 0; slice < 1000000 && Clock::now() < deadline; ++slice) {
    auto e = waiter.Receive(std::min(deadline, Clock::now() + std::chrono::milliseconds(50)));
    if (e && match(*e)) return std::move(*e);
    if (e && bounced(*e)) {
      throw ProbeError(Outcome::kS2sFailed, what + ": bounced to " + waiter.bare_jid() + ": " + StanzaErrorText(*e));
    }
    while (auto b = bouncer.Receive(Clock::now())) {
      if (bounced(*b)) {
        throw ProbeError(Outcome::kS2sFailed, what + ": bounced to " + bouncer.bare_jid() + ": " + StanzaErrorText(*b));
      }
    }
  }
  throw ProbeError(Outcome::kDeliveryFailed, "timed out waiting for " + what);
}

void AddS2sMetrics(const S2sStream& s2s, ProbeResult& r) {
  r.Add("probe_s2s_tls", "Whether the s2s stream to the remote domain was encrypted with a verified certificate.",
        s2s.tls_active() ? 1 : 0);
  bool external = std::find(s2s.mechanisms_offered().begin(), s2s.mechanisms_offered().end(), "EXTERNAL") !=
                  s2s.mechanisms_offered().end();
  const char* help = "Authentication the remote server offered over TLS to a server naming the home domain.";
  r.Add("probe_s2s_auth_offered", help, external ? 1 : 0, {{"method", "sasl_external"}});
  r.Add("probe_s2s_auth_offered", help, s2s.dialback_offered() ? 1 : 0, {{"method", "dialback"}});
  if (!s2s.tls_active()) return;
  // The certificate metrics are the remote's (the module's target), as blackbox_exporter
  // reports its target's: the home domain's certificate is what c2s and login watch.
  const CertInfo& c = s2s.cert();
  r.Add("probe_ssl_earliest_cert_expiry", "Earliest notAfter of the presented chain, in Unix seconds.",
        static_cast<double>(c.earliest_expiry_unix));
  r.Add("probe_ssl_last_chain_expiry_timestamp_seconds", "notAfter of the leaf certificate, in Unix seconds.",
        static_cast<double>(c.leaf_expiry_unix));
  r.Add("probe_ssl_last_chain_info", "The leaf certificate's fingerprint and subject.", 1,
        {{"fingerprint_sha256", c.leaf_sha256}, {"subject", c.leaf_subject}});
  r.Add("probe_tls_version_info", "The negotiated TLS version.", 1, {{"version", c.tls_version}});
}

}  // namespace

void ProbeS2s(const ModuleConfig& m, const std::string& target, Deadline deadline, ProbeResult& r) {
  if (m.xmpp.domain.empty()) throw ProbeError(Outcome::kConfigError, "s2s needs xmpp.domain (the home domain)");
  const std::string remote = m.peer.domain.empty() ? SplitHostPort(target, 5269).first : m.peer.domain;

  S2sConfig sc;
  sc.target = target;
  sc.to = remote;
  sc.from = m.xmpp.domain;
  sc.tls = std::make_shared<TlsContext>(
      TlsOptions{m.peer.ca_file.empty() ? m.xmpp.ca_file : m.peer.ca_file, m.xmpp.insecure_skip_verify});
  sc.limits.max_stanza_bytes = m.xmpp.max_stanza_bytes;
  sc.limits.max_depth = m.xmpp.max_depth;
  sc.source_address = m.xmpp.source_address;
  S2sStream s2s(sc);
  try {
    s2s.Negotiate(deadline);
  } catch (...) {
    r.phases = s2s.phases();
    throw;
  }
  r.phases = s2s.phases();
  AddS2sMetrics(s2s, r);
  s2s.Close(std::min(deadline, Clock::now() + std::chrono::milliseconds(500)));

  // The peer's account names its own target (the remote server's c2s), the home account the
  // load balancer; `target` is only their fallback.
  XmppClient receiver(MakeClientConfig(m, m.peer, target, UniqueToken("probe-s2s-rx")));
  XmppClient sender(MakeClientConfig(m, m.account, target, UniqueToken("probe-s2s-tx")));
  auto t = Clock::now();
  receiver.Login(deadline);
  r.phases["peer_login"] = SecondsSince(t);
  t = Clock::now();
  sender.Login(deadline);
  r.phases["login"] = SecondsSince(t);

  std::string id = UniqueToken("s2s");
  auto sent = Clock::now();
  sender.SendMessage(receiver.jid(), "xmpp_probe " + id, id, true, deadline);
  AwaitAcross(
      receiver,
      [&](const Element& e) { return e.name == "message" && e.Attr("id") == id && e.Attr("type") != "error"; }, sender,
      id, deadline, "the message at " + remote);
  r.phases["deliver"] = SecondsSince(sent);
  // The receiver's client answered the receipt request itself (auto_receipts); it travels
  // back over the remote server's own outgoing stream.
  AwaitAcross(
      sender,
      [&](const Element& e) {
        const Element* rcv = e.Child("received", kNsReceipts);
        return e.name == "message" && rcv && rcv->Attr("id") == id;
      },
      receiver, id, deadline, "the receipt back from " + remote);
  r.phases["receipt"] = SecondsSince(sent);
  r.Add("probe_s2s_message_round_trip_seconds",
        "From sending a message to the remote domain to receiving its delivery receipt.", r.phases["receipt"]);
  auto close_by = std::min(deadline, Clock::now() + std::chrono::seconds(1));
  sender.Close(close_by);
  receiver.Close(close_by);
}

}  // namespace xp
