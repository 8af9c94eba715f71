#include "negotiation.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "outcome.h"

namespace xp {

namespace {

std::string FirstChildName(const Element& e) {
  for (const auto& c : e.children) {
    if (c.name != "text") return c.name;
  }
  return "undefined-condition";
}

bool Offered(const std::vector<std::string>& offered, std::string_view name) {
  return std::find(offered.begin(), offered.end(), name) != offered.end();
}

std::string BindingData(SSL* ssl, std::string_view type) {
  if (type == "tls-exporter") return TlsExporterOf(ssl);
  if (type == "tls-server-end-point") return TlsServerEndPointOf(ssl);
  if (type == "tls-unique") return TlsUniqueOf(ssl);
  return {};
}

// Upgrades `plan` to channel binding when the server lets us; leaves it alone otherwise.
void Bind(SaslPlan& plan, const Element& features, SSL* ssl) {
  std::vector<std::string> types;
  if (const Element* cb = features.Child("sasl-channel-binding", kNsSaslCb)) {
    for (const char* preferred : {"tls-exporter", "tls-server-end-point", "tls-unique"}) {
      for (const auto& c : cb->children) {
        if (c.name == "channel-binding" && c.Attr("type") == preferred) types.emplace_back(preferred);
      }
    }
  } else {
    types = {"tls-unique"};
  }
  for (const auto& type : types) {
    std::string data = BindingData(ssl, type);
    if (data.empty()) continue;
    plan.mechanism += "-PLUS";
    plan.flag = CbFlag::kBound;
    plan.cb_type = type;
    plan.cb_data = std::move(data);
    return;
  }
}

ScramHash HashOf(std::string_view mechanism) {
  return mechanism.starts_with("SCRAM-SHA-1") ? ScramHash::kSha1 : ScramHash::kSha256;
}

}  // namespace

std::string StreamHeader(std::string_view domain) {
  return "<?xml version='1.0'?><stream:stream to='" + XmlEscape(domain) +
         "' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' xml:lang='en'>";
}

void CheckProceed(const Element& reply) {
  if (!reply.Is("proceed", kNsTls))
    throw ProbeError(Outcome::kTlsError, "server answered STARTTLS with <" + reply.name + "/>");
}

std::vector<std::string> OfferedMechanisms(const Element& features) {
  std::vector<std::string> out;
  if (const Element* mechs = features.Child("mechanisms", kNsSasl)) {
    for (const auto& m : mechs->children) {
      if (m.name == "mechanism") out.push_back(m.text);
    }
  }
  return out;
}

SaslPlan ChooseSasl(const std::vector<std::string>& wanted, const Element& features, SSL* ssl) {
  std::vector<std::string> offered = OfferedMechanisms(features);
  for (const auto& want : wanted) {
    bool plus_only = want.ends_with("-PLUS");
    std::string base = plus_only ? want.substr(0, want.size() - 5) : want;
    bool scram = base == "SCRAM-SHA-1" || base == "SCRAM-SHA-256";
    if (!scram && base != "PLAIN") {
      if (Offered(offered, want)) throw ProbeError(Outcome::kConfigError, "mechanism " + want + " is not implemented");
      continue;
    }
    if (base == "PLAIN") {
      if (!Offered(offered, "PLAIN")) continue;
      if (!ssl) throw ProbeError(Outcome::kNoMechanism, "refusing PLAIN without TLS");
      SaslPlan plain;
      plain.mechanism = "PLAIN";
      return plain;
    }
    SaslPlan plan;
    plan.mechanism = base;
    plan.flag = ssl ? CbFlag::kSupported : CbFlag::kNone;
    if (ssl && Offered(offered, base + "-PLUS")) Bind(plan, features, ssl);
    if (plan.flag == CbFlag::kBound) return plan;
    if (!plus_only && Offered(offered, base)) return plan;
  }
  throw ProbeError(Outcome::kNoMechanism, "no acceptable SASL mechanism offered");
}

SaslExchange::SaslExchange(SaslPlan plan, const std::string& user, const std::string& password, int min_iterations,
                           std::string cnonce)
    : plan_(std::move(plan)), user_(user), password_(password), min_iterations_(min_iterations) {
  if (plan_.mechanism != "PLAIN") {
    scram_ = std::make_unique<ScramClient>(HashOf(plan_.mechanism), user, password, std::move(cnonce));
    scram_->SetChannelBinding(plan_.flag, plan_.cb_type, plan_.cb_data);
  }
}

std::string SaslExchange::Start() {
  std::string payload;
  if (scram_) {
    payload = scram_->ClientFirst();
    step_ = Step::kFirst;
  } else {
    payload = std::string(1, '\0') + user_ + std::string(1, '\0') + password_;
    step_ = Step::kSuccess;
  }
  std::string out = "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='" + plan_.mechanism + "'>" +
                    Base64Encode(payload) + "</auth>";
  OPENSSL_cleanse(payload.data(), payload.size());
  OPENSSL_cleanse(password_.data(), password_.size());
  return out;
}

std::string SaslExchange::OnElement(const Element& e) {
  if (e.name == "failure") {
    std::string text = e.ChildText("text");
    throw ProbeError(Outcome::kAuthFailed,
                     "SASL failure: " + FirstChildName(e) + (text.empty() ? "" : " (" + text + ")"));
  }
  if (step_ == Step::kFirst && e.name == "challenge") {
    step_ = Step::kFinal;
    return "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" +
           Base64Encode(scram_->ClientFinal(Base64Decode(e.text), 1000000, min_iterations_)) + "</response>";
  }
  if (step_ == Step::kFinal && e.name == "challenge") {
    // Some servers send server-final as a challenge and <success/> empty after our response.
    scram_->VerifyServerFinal(Base64Decode(e.text));
    step_ = Step::kSuccess;
    return "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>";
  }
  if (e.name == "success" && (step_ == Step::kFinal || step_ == Step::kSuccess)) {
    if (step_ == Step::kFinal) scram_->VerifyServerFinal(Base64Decode(e.text));
    step_ = Step::kDone;
    return {};
  }
  throw ProbeError(Outcome::kProtocolError, "unexpected SASL <" + e.name + "/>");
}

std::string BindRequest(std::string_view id, std::string_view resource) {
  return "<iq type='set' id='" + XmlEscape(id) + "'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>" +
         XmlEscape(resource) + "</resource></bind></iq>";
}

std::string BoundJid(const Element& reply) {
  if (reply.Attr("type") != "result") {
    const Element* err = reply.Child("error");
    throw ProbeError(Outcome::kBindFailed,
                     "bind refused: " + (err ? FirstChildName(*err) : std::string("no error element")));
  }
  const Element* bind = reply.Child("bind", kNsBind);
  std::string jid = bind ? bind->ChildText("jid") : std::string();
  if (jid.empty()) throw ProbeError(Outcome::kBindFailed, "bind result carries no JID");
  return jid;
}

}  // namespace xp
