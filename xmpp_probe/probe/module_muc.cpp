// muc: group chat as a user meets it (XEP-0045). The account joins the module's room
// (creating it, and unlocking it as an instant room, when it does not exist), sends a
// groupchat message and times its reflection back to itself; then the peer joins and must
// find that message in the history the room sends on join. Both leave at the end; the room
// is not persistent, so the service destroys it once empty.
#include "probe/disco.h"
#include "probe/modules.h"

namespace xp {

namespace {

constexpr std::string_view kNsMuc = "http://jabber.org/protocol/muc";
constexpr std::string_view kNsMucUser = "http://jabber.org/protocol/muc#user";

bool HasStatus(const Element& presence, const std::string& code) {
  const Element* x = presence.Child("x", kNsMucUser);
  if (!x) return false;
  for (const auto& c : x->children) {
    if (c.name == "status" && c.Attr("code") == code) return true;
  }
  return false;
}

// Sends the join presence and waits for the room's answer to it: our own presence (status 110
// or from our nick) or an error. Returns our presence; an error is kServiceError.
Element Join(XmppClient& c, const std::string& occupant, const std::string& history, Deadline deadline) {
  c.Send("<presence to='" + XmlEscape(occupant) + "'><x xmlns='" + std::string(kNsMuc) + "'>" + history +
             "</x></presence>",
         deadline);
  Element p = AwaitDelivery(
      c, [&](const Element& e) { return e.name == "presence" && e.Attr("from") == occupant; }, deadline,
      "the room's answer to joining as " + occupant);
  if (p.Attr("type") == "error") {
    throw ProbeError(Outcome::kServiceError, "joining " + occupant + " refused: " + StanzaErrorText(p));
  }
  return p;
}

void Leave(XmppClient& c, const std::string& occupant, Deadline deadline) {
  try {
    c.Send("<presence type='unavailable' to='" + XmlEscape(occupant) + "'/>", deadline);
  } catch (const ProbeError&) {
    // Closing the stream removes the occupant as well.
  }
}

}  // namespace

void ProbeMuc(const ModuleConfig& m, const std::string& target, Deadline deadline, ProbeResult& r) {
  XmppClient owner(MakeClientConfig(m, m.account, target, UniqueToken("probe-muc")));
  owner.Login(deadline);
  r.phases = owner.phases();
  AddConnectionMetrics(owner, r);
  const std::string service = m.muc.service.empty() ? "conference." + owner.config().domain : m.muc.service;
  RequireFeature(owner, service, std::string(kNsMuc), deadline, "group chat (MUC)");
  const std::string room = m.muc.room + "@" + service;
  // Nicknames unique per run: a second probe running at the same time shares the room.
  const std::string writer = room + "/" + UniqueToken("w");
  const std::string reader_nick = room + "/" + UniqueToken("r");

  auto t = Clock::now();
  Element self = Join(owner, writer, "<history maxstanzas='0'/>", deadline);
  // 201: the room was created by this join and is locked until its owner configures it;
  // an empty submitted form makes it an instant room with the service's default options.
  const bool created = HasStatus(self, "201");
  if (created) {
    ExpectResult(owner.Iq("set", room,
                          "<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' "
                          "type='submit'/></query>",
                          deadline, "the room configuration result"),
                 "unlocking the new room " + room);
  }
  r.phases["join"] = SecondsSince(t);
  r.Add("probe_xmpp_muc_room_created", "1 when the room did not exist and this probe created it.", created ? 1 : 0);

  const std::string id = UniqueToken("muc");
  const std::string body = "xmpp_probe " + id;
  t = Clock::now();
  owner.Send("<message type='groupchat' to='" + XmlEscape(room) + "' id='" + XmlEscape(id) + "'><body>" +
                 XmlEscape(body) + "</body></message>",
             deadline);
  Element echo = AwaitDelivery(
      owner,
      [&](const Element& e) {
        return e.name == "message" && (e.Attr("id") == id || e.ChildText("body") == body) &&
               (e.Attr("type") == "error" || e.Attr("from") == writer);
      },
      deadline, "the reflection of the groupchat message");
  if (echo.Attr("type") == "error") {
    throw ProbeError(Outcome::kServiceError, "groupchat message refused: " + StanzaErrorText(echo));
  }
  r.phases["reflect"] = SecondsSince(t);

  XmppClient reader(MakeClientConfig(m, m.peer, target, UniqueToken("probe-muc")));
  reader.Login(deadline);
  t = Clock::now();
  Join(reader, reader_nick, "<history maxstanzas='20'/>", deadline);
  // The room sends the occupants' presences, then the history, then the subject: our
  // message is in the history, since it was sent before the reader joined.
  AwaitDelivery(
      reader, [&](const Element& e) { return e.name == "message" && e.ChildText("body") == body; }, deadline,
      "the message in the room history at join");
  r.phases["history"] = SecondsSince(t);

  auto close_by = std::min(deadline, Clock::now() + std::chrono::seconds(1));
  Leave(reader, reader_nick, close_by);
  Leave(owner, writer, close_by);
  reader.Close(close_by);
  owner.Close(close_by);
}

}  // namespace xp
