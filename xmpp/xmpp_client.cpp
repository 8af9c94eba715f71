#include "xmpp_client.h"

#include <algorithm>

#include "outcome.h"
#include "scram.h"

namespace xp {

namespace {

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string FirstChildName(const Element& e, std::string_view skip = "text") {
  for (const auto& c : e.children) {
    if (c.name != skip) return c.name;
  }
  return "undefined-condition";
}

}  // namespace

XmppClient::XmppClient(ClientConfig config) : config_(std::move(config)), stream_(config_.limits) {}
XmppClient::~XmppClient() = default;

void XmppClient::Phase(const std::string& name, Clock::time_point start) {
  phases_[name] += Seconds(Clock::now() - start);
}

std::string XmppClient::NextId(const char* prefix) { return std::string(prefix) + std::to_string(++next_id_); }

void XmppClient::Connect(Deadline deadline) {
  if (config_.tls_mode != TlsMode::kPlain && !config_.tls) {
    throw ProbeError(Outcome::kConfigError, "TLS mode needs a TLS context");
  }
  // A reconnect reuses this object (XEP-0198 state survives); the stream itself starts over.
  conn_.Close();
  stream_.Reset();
  backlog_.clear();
  phases_.clear();
  int default_port = config_.tls_mode == TlsMode::kDirect ? 5223 : 5222;
  auto [host, port] = SplitHostPort(config_.target, default_port);
  auto t = Clock::now();
  std::vector<Endpoint> endpoints = Resolve(host, port);
  Phase("dns", t);

  t = Clock::now();
  conn_.Connect(endpoints, deadline, config_.source_address);
  Phase("connect", t);

  if (config_.tls_mode == TlsMode::kDirect) StartTlsNow(deadline, "tls");

  t = Clock::now();
  OpenStream(deadline);
  features_ = ReadFeatures(deadline);
  starttls_offered_ = features_.Child("starttls", kNsTls) != nullptr;
  if (config_.tls_mode == TlsMode::kStarttls) {
    if (!starttls_offered_) throw ProbeError(Outcome::kStarttlsMissing, "server did not offer STARTTLS");
    Send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", deadline);
    Element reply = WaitFor([](const Element& e) { return e.ns == kNsTls; }, deadline, "STARTTLS <proceed/>");
    if (reply.name != "proceed") throw ProbeError(Outcome::kTlsError, "server answered STARTTLS with <" + reply.name + "/>");
    Phase("starttls", t);
    StartTlsNow(deadline, "tls");
    stream_.Reset();
    t = Clock::now();
    OpenStream(deadline);
    features_ = ReadFeatures(deadline);
    Phase("starttls", t);
  }
  mechanisms_offered_.clear();
  if (const Element* mechs = features_.Child("mechanisms", kNsSasl)) {
    for (const auto& m : mechs->children) {
      if (m.name == "mechanism") mechanisms_offered_.push_back(m.text);
    }
  }
}

void XmppClient::StartTlsNow(Deadline deadline, const char* phase) {
  auto t = Clock::now();
  conn_.StartTls(config_.tls, config_.domain, deadline);
  Phase(phase, t);
}

void XmppClient::OpenStream(Deadline deadline) {
  Send("<?xml version='1.0'?><stream:stream to='" + XmlEscape(config_.domain) +
           "' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' xml:lang='en'>",
       deadline);
}

Element XmppClient::ReadFeatures(Deadline deadline) {
  return WaitFor([](const Element& e) { return e.Is("features", kNsStreams); }, deadline, "stream features");
}

void XmppClient::Authenticate(Deadline deadline) {
  auto t = Clock::now();
  std::string chosen;
  for (const auto& want : config_.mechanisms) {
    if (std::find(mechanisms_offered_.begin(), mechanisms_offered_.end(), want) != mechanisms_offered_.end()) {
      chosen = want;
      break;
    }
  }
  if (chosen.empty()) throw ProbeError(Outcome::kNoMechanism, "no acceptable SASL mechanism offered");
  if (chosen == "PLAIN") {
    if (!conn_.tls()) throw ProbeError(Outcome::kNoMechanism, "refusing PLAIN without TLS");
    AuthPlain(deadline);
  } else if (chosen == "SCRAM-SHA-1" || chosen == "SCRAM-SHA-256") {
    AuthScram(chosen, deadline);
  } else {
    throw ProbeError(Outcome::kConfigError, "mechanism " + chosen + " is not implemented");
  }
  mechanism_used_ = chosen;
  stream_.Reset();
  OpenStream(deadline);
  features_ = ReadFeatures(deadline);
  Phase("auth", t);
}

namespace {
bool IsSasl(const Element& e) { return e.ns == kNsSasl; }

[[noreturn]] void SaslFailure(const Element& e) {
  std::string text = e.ChildText("text");
  throw ProbeError(Outcome::kAuthFailed,
                   "SASL failure: " + FirstChildName(e) + (text.empty() ? "" : " (" + text + ")"));
}
}  // namespace

void XmppClient::AuthPlain(Deadline deadline) {
  std::string creds = std::string(1, '\0') + config_.user + std::string(1, '\0') + config_.password;
  Send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + Base64Encode(creds) + "</auth>", deadline);
  Element reply = WaitFor(IsSasl, deadline, "SASL result");
  if (reply.name == "failure") SaslFailure(reply);
  if (reply.name != "success") throw ProbeError(Outcome::kProtocolError, "unexpected SASL <" + reply.name + "/>");
}

void XmppClient::AuthScram(const std::string& mech, Deadline deadline) {
  ScramClient scram(mech == "SCRAM-SHA-1" ? ScramHash::kSha1 : ScramHash::kSha256, config_.user, config_.password);
  Send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='" + mech + "'>" + Base64Encode(scram.ClientFirst()) +
           "</auth>",
       deadline);
  Element challenge = WaitFor(IsSasl, deadline, "SCRAM challenge");
  if (challenge.name == "failure") SaslFailure(challenge);
  if (challenge.name != "challenge") throw ProbeError(Outcome::kProtocolError, "expected <challenge/>, got <" + challenge.name + "/>");
  Send("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" +
           Base64Encode(scram.ClientFinal(Base64Decode(challenge.text))) + "</response>",
       deadline);
  Element result = WaitFor(IsSasl, deadline, "SASL result");
  if (result.name == "failure") SaslFailure(result);
  if (result.name == "challenge") {
    // Some servers send server-final as a challenge and <success/> empty after our response.
    scram.VerifyServerFinal(Base64Decode(result.text));
    Send("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>", deadline);
    result = WaitFor(IsSasl, deadline, "SASL success");
    if (result.name == "failure") SaslFailure(result);
    if (result.name != "success") throw ProbeError(Outcome::kProtocolError, "unexpected SASL <" + result.name + "/>");
    return;
  }
  if (result.name != "success") throw ProbeError(Outcome::kProtocolError, "unexpected SASL <" + result.name + "/>");
  scram.VerifyServerFinal(Base64Decode(result.text));
}

void XmppClient::Bind(Deadline deadline) {
  auto t = Clock::now();
  if (!features_.Child("bind", kNsBind)) throw ProbeError(Outcome::kBindFailed, "server did not offer resource binding");
  std::string id = NextId("bind");
  Send("<iq type='set' id='" + id + "'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>" +
           XmlEscape(config_.resource) + "</resource></bind></iq>",
       deadline);
  Element reply = WaitFor([&](const Element& e) { return e.name == "iq" && e.Attr("id") == id; }, deadline, "bind result");
  if (reply.Attr("type") != "result") {
    const Element* err = reply.Child("error");
    throw ProbeError(Outcome::kBindFailed, "bind refused: " + (err ? FirstChildName(*err) : std::string("no error element")));
  }
  const Element* bind = reply.Child("bind", kNsBind);
  jid_ = bind ? bind->ChildText("jid") : std::string();
  if (jid_.empty()) throw ProbeError(Outcome::kBindFailed, "bind result carries no JID");
  const Element* session = features_.Child("session", kNsSession);
  if (session && !session->Child("optional")) {
    std::string sid = NextId("sess");
    Send("<iq type='set' id='" + sid + "'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>", deadline);
    Element r = WaitFor([&](const Element& e) { return e.name == "iq" && e.Attr("id") == sid; }, deadline, "session result");
    if (r.Attr("type") != "result") throw ProbeError(Outcome::kBindFailed, "session establishment refused");
  }
  Phase("bind", t);
}

void XmppClient::Close(Deadline deadline) {
  try {
    if (conn_.fd() >= 0) {
      conn_.Write("</stream:stream>", deadline);
      for (int i = 0; i < 100 && !stream_.closed(); ++i) {
        if (!ReadRaw(deadline)) break;
      }
    }
  } catch (const ProbeError&) {
    // Closing is best effort: the probe's result was settled before.
  }
  conn_.Close();
}

std::optional<Element> XmppClient::ReadRaw(Deadline deadline) {
  for (int reads = 0; reads < 1000000; ++reads) {
    if (auto e = stream_.Next()) {
      if (e->Is("error", kNsStreams)) {
        std::string text = e->ChildText("text");
        throw ProbeError(Outcome::kStreamError, "stream error: " + FirstChildName(*e) + (text.empty() ? "" : " (" + text + ")"));
      }
      return e;
    }
    if (stream_.closed()) throw ProbeError(Outcome::kClosed, "server closed the stream");
    auto data = conn_.Read(deadline);
    if (!data) return std::nullopt;
    stream_.Feed(*data);
  }
  return std::nullopt;
}

std::optional<Element> XmppClient::Receive(Deadline deadline) {
  if (!backlog_.empty()) {
    Element e = std::move(backlog_.front());
    backlog_.pop_front();
    return e;
  }
  for (int i = 0; i < 100000; ++i) {
    auto e = ReadRaw(deadline);
    if (!e) return std::nullopt;
    if (!HandleInternally(*e, deadline)) return e;
  }
  return std::nullopt;
}

Element XmppClient::WaitFor(const std::function<bool(const Element&)>& match, Deadline deadline, const std::string& what) {
  for (auto it = backlog_.begin(); it != backlog_.end(); ++it) {
    if (match(*it)) {
      Element e = std::move(*it);
      backlog_.erase(it);
      return e;
    }
  }
  for (int i = 0; i < 1000000; ++i) {
    auto e = ReadRaw(deadline);
    if (!e) break;
    if (HandleInternally(*e, deadline)) continue;
    if (match(*e)) return std::move(*e);
    backlog_.push_back(std::move(*e));
    if (backlog_.size() > config_.backlog_limit) backlog_.pop_front();
  }
  throw ProbeError(Outcome::kTimeout, "timed out waiting for " + what);
}

}  // namespace xp
