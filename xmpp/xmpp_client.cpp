#include "xmpp_client.h"

#include "negotiation.h"
#include "outcome.h"

namespace xp {

namespace {

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

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

std::string XmppClient::NextId(const char* prefix) {
  return std::string(prefix) + std::to_string(++next_id_);
}

void XmppClient::Connect(Deadline deadline) {
  if (config_.tls_mode != TlsMode::kPlain && !config_.tls) {
    throw ProbeError(Outcome::kConfigError, "TLS mode needs a TLS context");
  }
  // A reconnect reuses this object (XEP-0198 state survives); the stream itself starts over.
  conn_.Close();
  stream_.Reset();
  ClearBacklog();
  phases_.clear();
  bytes_read_ = 0;
  established_ = false;
  int default_port = config_.tls_mode == TlsMode::kDirect ? 5223 : 5222;
  auto [host, port] = SplitHostPort(config_.target, default_port);
  auto t = Clock::now();
  std::vector<Endpoint> endpoints = ResolveBefore(host, port, deadline, config_.resolver);
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
    Send(std::string(kStartTlsRequest), deadline);
    CheckProceed(WaitFor([](const Element& e) { return e.ns == kNsTls; }, deadline, "STARTTLS <proceed/>"));
    Phase("starttls", t);
    // Nothing that arrived in cleartext may be read after the handshake (CVE-2011-0411):
    // neither what the parser holds from the segment that carried <proceed/>, nor anything held
    // back. Connection keeps no read buffer of its own.
    stream_.Reset();
    ClearBacklog();
    StartTlsNow(deadline, "tls");
    t = Clock::now();
    OpenStream(deadline);
    features_ = ReadFeatures(deadline);
    Phase("starttls", t);
  }
  mechanisms_offered_ = OfferedMechanisms(features_);
}

void XmppClient::StartTlsNow(Deadline deadline, const char* phase) {
  auto t = Clock::now();
  conn_.StartTls(config_.tls, config_.domain, deadline);
  Phase(phase, t);
}

void XmppClient::OpenStream(Deadline deadline) {
  Send(StreamHeader(config_.domain), deadline);
}

Element XmppClient::ReadFeatures(Deadline deadline) {
  return WaitFor([](const Element& e) { return e.Is("features", kNsStreams); }, deadline, "stream features");
}

void XmppClient::Authenticate(Deadline deadline) {
  auto t = Clock::now();
  SaslPlan plan = ChooseSasl(config_.mechanisms, features_, conn_.ssl());
  SaslExchange sasl(plan, config_.user, config_.password, config_.min_scram_iterations);
  Send(sasl.Start(), deadline);
  for (int step = 0; step < 8 && !sasl.done(); ++step) {
    std::string reply =
        sasl.OnElement(WaitFor([](const Element& e) { return e.ns == kNsSasl; }, deadline, "SASL result"));
    if (!reply.empty()) Send(reply, deadline);
  }
  if (!sasl.done()) throw ProbeError(Outcome::kProtocolError, "SASL exchange did not end");
  mechanism_used_ = plan.mechanism;
  stream_.Reset();
  OpenStream(deadline);
  features_ = ReadFeatures(deadline);
  Phase("auth", t);
}

void XmppClient::Bind(Deadline deadline) {
  auto t = Clock::now();
  if (!features_.Child("bind", kNsBind))
    throw ProbeError(Outcome::kBindFailed, "server did not offer resource binding");
  std::string id = NextId("bind");
  Send(BindRequest(id, config_.resource), deadline);
  jid_ = BoundJid(
      WaitFor([&](const Element& e) { return e.name == "iq" && e.Attr("id") == id; }, deadline, "bind result"));
  const Element* session = features_.Child("session", kNsSession);
  if (session && !session->Child("optional")) {
    std::string sid = NextId("sess");
    Send("<iq type='set' id='" + sid + "'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>", deadline);
    Element r =
        WaitFor([&](const Element& e) { return e.name == "iq" && e.Attr("id") == sid; }, deadline, "session result");
    if (r.Attr("type") != "result") throw ProbeError(Outcome::kBindFailed, "session establishment refused");
  }
  established_ = true;
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
        throw ProbeError(Outcome::kStreamError,
                         "stream error: " + FirstChildName(*e) + (text.empty() ? "" : " (" + text + ")"));
      }
      return e;
    }
    if (stream_.closed()) throw ProbeError(Outcome::kClosed, "server closed the stream");
    auto data = conn_.Read(deadline);
    if (!data) return std::nullopt;
    bytes_read_ += data->size();
    if (!established_ && bytes_read_ > config_.budgets.login_bytes) {
      OverBudget(Outcome::kSessionBudgetExceeded, "read " + std::to_string(bytes_read_) +
                                                      " bytes before the session was established (budget " +
                                                      std::to_string(config_.budgets.login_bytes) + ")");
    }
    if (config_.budgets.session_bytes != 0 && bytes_read_ > config_.budgets.session_bytes) {
      OverBudget(Outcome::kSessionBudgetExceeded, "read " + std::to_string(bytes_read_) +
                                                      " bytes on one connection (budget " +
                                                      std::to_string(config_.budgets.session_bytes) + ")");
    }
    try {
      stream_.Feed(*data);
    } catch (const ProbeError&) {
      conn_.Close();  // a stream the parser gave up on is not read any further
      throw;
    }
  }
  return std::nullopt;
}

void XmppClient::OverBudget(Outcome outcome, const std::string& why) {
  // The session ends here: what it held goes, and the peer gets no further reads.
  ClearBacklog();
  stream_.Reset();
  conn_.Close();
  throw ProbeError(outcome, why);
}

void XmppClient::ClearBacklog() {
  backlog_.clear();
  backlog_bytes_ = 0;
}

Element XmppClient::TakeHeld(const std::deque<Held>::iterator& it) {
  backlog_bytes_ -= it->bytes;
  Element e = std::move(it->element);
  backlog_.erase(it);
  return e;
}

void XmppClient::Hold(Element e) {
  // Held even before the session is bound (a server may route to a session between SASL and
  // bind): the budgets bound it, and STARTTLS drops whatever was held in cleartext.
  std::size_t bytes = Footprint(e);
  backlog_.push_back(Held{std::move(e), bytes});
  backlog_bytes_ += bytes;
  if (backlog_.size() > config_.backlog_limit) TakeHeld(backlog_.begin());
  if (backlog_bytes_ > config_.budgets.backlog_bytes) {
    OverBudget(Outcome::kBacklogBudgetExceeded, std::to_string(backlog_.size()) + " unsolicited stanzas hold " +
                                                    std::to_string(backlog_bytes_) + " bytes (budget " +
                                                    std::to_string(config_.budgets.backlog_bytes) + ")");
  }
}

std::optional<Element> XmppClient::Receive(Deadline deadline) {
  if (!backlog_.empty()) return TakeHeld(backlog_.begin());
  for (int i = 0; i < 100000; ++i) {
    auto e = ReadRaw(deadline);
    if (!e) return std::nullopt;
    if (!HandleInternally(*e, deadline)) return e;
  }
  return std::nullopt;
}

Element XmppClient::WaitFor(const std::function<bool(const Element&)>& match, Deadline deadline,
                            const std::string& what) {
  for (auto it = backlog_.begin(); it != backlog_.end(); ++it) {
    if (match(it->element)) return TakeHeld(it);
  }
  for (int i = 0; i < 1000000; ++i) {
    auto e = ReadRaw(deadline);
    if (!e) break;
    if (HandleInternally(*e, deadline)) continue;
    if (match(*e)) return std::move(*e);
    Hold(std::move(*e));
  }
  throw ProbeError(Outcome::kTimeout, "timed out waiting for " + what);
}

}  // namespace xp
