// The part of XmppClient used after login: stanzas, pings, receipts, MAM and XEP-0198.
#include <charconv>

#include "outcome.h"
#include "xmpp_client.h"

namespace xp {

namespace {

bool IsCountedStanza(std::string_view xml) {
  return xml.starts_with("<message") || xml.starts_with("<iq") || xml.starts_with("<presence");
}

bool IsCountedElement(const Element& e) {
  return e.ns == kNsClient && (e.name == "message" || e.name == "iq" || e.name == "presence");
}

std::uint32_t ParseH(const std::string& text) {
  std::uint32_t h = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), h);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    throw ProbeError(Outcome::kProtocolError, "XEP-0198 h='" + text + "' is not a number");
  }
  return h;
}

}  // namespace

void XmppClient::Send(const std::string& stanza, Deadline deadline) {
  if (sm_.enabled && IsCountedStanza(stanza)) {
    ++sm_.outbound;
    sm_.unacked.emplace_back(sm_.outbound, stanza);
    // A server that never acks must not grow this without bound.
    if (sm_.unacked.size() > 10000) sm_.unacked.pop_front();
  }
  conn_.Write(stanza, deadline);
}

bool XmppClient::HandleInternally(const Element& e, Deadline deadline) {
  if (sm_.enabled && IsCountedElement(e)) ++sm_.inbound;
  if (e.ns == kNsSm) {
    if (e.name == "r") {
      conn_.Write("<a xmlns='urn:xmpp:sm:3' h='" + std::to_string(sm_.inbound) + "'/>", deadline);
      return true;
    }
    if (e.name == "a") {
      AckUpTo(ParseH(e.Attr("h")));
      return true;
    }
    return false;
  }
  if (e.ns != kNsClient) return false;
  if (e.name == "iq" && e.Attr("type") == "get" && e.Child("ping", kNsPing)) {
    Send("<iq type='result' id='" + XmlEscape(e.Attr("id")) + "' to='" + XmlEscape(e.Attr("from")) + "'/>", deadline);
    return true;
  }
  if (e.name == "message" && config_.auto_receipts && e.Child("request", kNsReceipts) && !e.Attr("id").empty()) {
    Send("<message to='" + XmlEscape(e.Attr("from")) + "' id='" + NextId("rcpt") +
             "'><received xmlns='urn:xmpp:receipts' id='" + XmlEscape(e.Attr("id")) + "'/></message>",
         deadline);
  }
  return false;
}

void XmppClient::AckUpTo(std::uint32_t h) {
  while (!sm_.unacked.empty() && static_cast<std::int32_t>(h - sm_.unacked.front().first) >= 0) {
    sm_.unacked.pop_front();
  }
}

void XmppClient::SendPresence(Deadline deadline) {
  Send("<presence/>", deadline);
}

double XmppClient::Ping(Deadline deadline) {
  std::string id = NextId("ping");
  auto start = Clock::now();
  Send("<iq type='get' id='" + id + "' to='" + XmlEscape(config_.domain) + "'><ping xmlns='urn:xmpp:ping'/></iq>",
       deadline);
  // An <error/> reply still proves the server is there and answering.
  WaitFor([&](const Element& e) { return e.name == "iq" && e.Attr("id") == id; }, deadline, "ping reply");
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void XmppClient::SendMessage(const std::string& to, const std::string& body, const std::string& id,
                             bool request_receipt, Deadline deadline) {
  Send("<message type='chat' to='" + XmlEscape(to) + "' id='" + XmlEscape(id) + "'><body>" + XmlEscape(body) +
           "</body>" + (request_receipt ? "<request xmlns='urn:xmpp:receipts'/>" : "") + "</message>",
       deadline);
}

Element XmppClient::Iq(const std::string& type, const std::string& to, const std::string& payload, Deadline deadline,
                       const std::string& what) {
  std::string id = NextId("iq");
  Send("<iq type='" + XmlEscape(type) + "' id='" + id + "'" + (to.empty() ? "" : " to='" + XmlEscape(to) + "'") + ">" +
           payload + "</iq>",
       deadline);
  return WaitFor(
      [&](const Element& e) {
        return e.name == "iq" && e.Attr("id") == id && (e.Attr("type") == "result" || e.Attr("type") == "error");
      },
      deadline, what);
}

std::string StanzaErrorText(const Element& stanza) {
  const Element* error = stanza.Child("error");
  if (!error) return "undefined-condition";
  std::string condition = "undefined-condition";
  for (const auto& c : error->children) {
    if (c.ns == kNsStanzas && c.name != "text") {
      condition = c.name;
      break;
    }
  }
  std::string text = error->ChildText("text", kNsStanzas);
  return text.empty() ? condition : condition + " (" + text + ")";
}

std::vector<Element> XmppClient::MamQuery(const std::string& with, int max, Deadline deadline) {
  std::string id = NextId("mam");
  std::string qid = NextId("q");
  Send("<iq type='set' id='" + id + "'><query xmlns='urn:xmpp:mam:2' queryid='" + qid +
           "'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value>"
           "</field><field var='with'><value>" +
           XmlEscape(with) + "</value></field></x><set xmlns='http://jabber.org/protocol/rsm'><max>" +
           std::to_string(max) + "</max><before/></set></query></iq>",
       deadline);
  std::vector<Element> found;
  for (int i = 0; i <= max + 1; ++i) {
    Element e = WaitFor(
        [&](const Element& s) {
          if (s.name == "iq") return s.Attr("id") == id;
          const Element* r = s.Child("result", kNsMam);
          return s.name == "message" && r && r->Attr("queryid") == qid;
        },
        deadline, "MAM results");
    if (e.name == "iq") {
      if (e.Attr("type") != "result") throw ProbeError(Outcome::kDeliveryFailed, "MAM query refused");
      return found;
    }
    const Element* fwd = e.Child("result", kNsMam)->Child("forwarded", kNsForward);
    if (fwd && fwd->Child("message")) found.push_back(*fwd->Child("message"));
  }
  throw ProbeError(Outcome::kProtocolError, "MAM sent more results than asked for");
}

bool XmppClient::EnableSm(bool resume, Deadline deadline) {
  if (!features_.Child("sm", kNsSm)) return false;
  conn_.Write(std::string("<enable xmlns='urn:xmpp:sm:3'") + (resume ? " resume='true'" : "") + "/>", deadline);
  Element r = WaitFor([](const Element& e) { return e.ns == kNsSm && (e.name == "enabled" || e.name == "failed"); },
                      deadline, "XEP-0198 <enabled/>");
  if (r.name == "failed") return false;
  sm_ = SmState{};
  sm_.enabled = true;
  std::string resumable = r.Attr("resume");
  if (resumable == "true" || resumable == "1") sm_.id = r.Attr("id");
  return true;
}

void XmppClient::RequestAck(Deadline deadline) {
  if (sm_.enabled) conn_.Write("<r xmlns='urn:xmpp:sm:3'/>", deadline);
}

void XmppClient::Resume(Deadline deadline) {
  if (!sm_.enabled || sm_.id.empty()) throw ProbeError(Outcome::kResumeFailed, "no resumable session");
  auto t = Clock::now();
  conn_.Write(
      "<resume xmlns='urn:xmpp:sm:3' h='" + std::to_string(sm_.inbound) + "' previd='" + XmlEscape(sm_.id) + "'/>",
      deadline);
  Element r = WaitFor([](const Element& e) { return e.ns == kNsSm && (e.name == "resumed" || e.name == "failed"); },
                      deadline, "XEP-0198 <resumed/>");
  if (r.name == "failed") {
    sm_.enabled = false;
    throw ProbeError(Outcome::kResumeFailed, "server refused to resume the session");
  }
  AckUpTo(ParseH(r.Attr("h")));
  established_ = true;
  for (const auto& [seq, stanza] : sm_.unacked) conn_.Write(stanza, deadline);
  phases_["resume"] += std::chrono::duration<double>(Clock::now() - t).count();
}

std::vector<std::string> XmppClient::TakeUnacked() {
  std::vector<std::string> out;
  for (auto& [seq, stanza] : sm_.unacked) out.push_back(std::move(stanza));
  sm_.unacked.clear();
  return out;
}

}  // namespace xp
