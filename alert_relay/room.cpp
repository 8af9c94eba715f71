#include "room.h"

#include <cctype>
#include <stdexcept>

#include "commands.h"
#include "log.h"
#include "xmpp/xml_stream.h"

namespace relay {
namespace {

bool HasStatus(const xp::Element& x, const char* code) {
  for (const auto& c : x.children) {
    if (c.name == "status" && c.Attr("code") == code) return true;
  }
  return false;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

std::string Resource(const std::string& jid) {
  const auto slash = jid.find('/');
  return slash == std::string::npos ? "" : jid.substr(slash + 1);
}

RoomSpec ParseRoom(const std::string& spec, const std::string& default_nick) {
  RoomSpec r;
  r.jid = BareJid(spec);
  const auto slash = spec.find('/');
  r.nick = slash == std::string::npos ? default_nick : spec.substr(slash + 1);
  const auto at = r.jid.find('@');
  if (at == 0 || at == std::string::npos || at + 1 == r.jid.size() || r.jid.find('@', at + 1) != std::string::npos) {
    throw std::invalid_argument("--xmpp.room '" + Printable(spec, 100) + "': write ROOM@conference.DOMAIN[/NICK]");
  }
  for (char c : r.jid) {
    if (std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c))) {
      throw std::invalid_argument("--xmpp.room '" + Printable(spec, 100) + "': no blanks in the room's JID");
    }
  }
  for (char c : r.nick) {
    if (std::iscntrl(static_cast<unsigned char>(c))) {
      throw std::invalid_argument("--xmpp.room '" + Printable(spec, 100) + "': no control characters in the nick");
    }
  }
  if (r.nick.empty() || r.nick.size() > 64) {
    throw std::invalid_argument("--xmpp.room '" + Printable(spec, 100) + "': the nick must be 1 to 64 characters");
  }
  return r;
}

const RoomSpec* Rooms::Find(const std::string& jid) const {
  const std::string bare = BareJid(jid);
  for (const auto& r : specs_) {
    if (r.jid == bare) return &r;
  }
  return nullptr;
}

void Rooms::Reset() {
  joined_.clear();
  real_.clear();
}

void Rooms::JoinAll(xp::XmppClient& client, xp::Deadline deadline) {
  for (const auto& r : specs_) {
    try {
      joined_[r.jid] = Join(client, r, deadline);
    } catch (const xp::ProbeError& e) {
      if (e.outcome() != xp::Outcome::kTimeout) throw;  // the stream itself failed
      joined_[r.jid] = false;
      xw::log::Warn("room did not answer the join; notifications skip it until the next session",
                    {{"room", r.jid}, {"err", e.what()}});
    }
  }
}

bool Rooms::Join(xp::XmppClient& client, const RoomSpec& room, xp::Deadline deadline) {
  const std::string self = room.jid + "/" + room.nick;
  // No history: a command typed in the room before the relay (re)joined is not run again.
  client.Send(
      "<presence to='" + xp::XmlEscape(self) + "'><x xmlns='" + kNsMuc + "'><history maxstanzas='0'/></x></presence>",
      deadline);
  // Other occupants' presences come first and wait in the client's backlog for OnPresence.
  const xp::Element p = client.WaitFor(
      [&](const xp::Element& e) {
        return e.name == "presence" && BareJid(e.Attr("from")) == room.jid && Resource(e.Attr("from")) == room.nick;
      },
      deadline, "our presence in " + room.jid);
  if (p.Attr("type") == "error") {
    const xp::Element* err = p.Child("error");
    xw::log::Warn("room refused the join", {{"room", room.jid},
                                            {"nick", room.nick},
                                            {"err", err && !err->children.empty() ? err->children[0].name : "?"}});
    return false;
  }
  OnPresence(p);
  const xp::Element* x = p.Child("x", kNsMucUser);
  if (x && HasStatus(*x, "201")) {
    // A new room stays locked until its owner configures it: accept the defaults (an
    // "instant room", XEP-0045 10.1.2).
    const std::string id = client.NextId("muc");
    client.Send("<iq type='set' id='" + id + "' to='" + xp::XmlEscape(room.jid) + "'><query xmlns='" + kNsMucOwner +
                    "'><x xmlns='jabber:x:data' type='submit'/></query></iq>",
                deadline);
    const xp::Element r = client.WaitFor([&](const xp::Element& e) { return e.name == "iq" && e.Attr("id") == id; },
                                         deadline, "room configuration");
    if (r.Attr("type") != "result") {
      xw::log::Warn("could not unlock the new room", {{"room", room.jid}});
      return false;
    }
    xw::log::Info("created the room", {{"room", room.jid}});
  }
  xw::log::Info("joined the room", {{"room", room.jid}, {"nick", room.nick}});
  return true;
}

bool Rooms::OnPresence(const xp::Element& presence) {
  const std::string from = presence.Attr("from");
  const RoomSpec* room = Find(from);
  if (room == nullptr) return false;
  const std::string nick = Resource(from);
  const std::string type = presence.Attr("type");
  if (type == "unavailable" || type == "error") {
    real_[room->jid].erase(nick);
    if (nick == room->nick && joined_[room->jid]) {
      joined_[room->jid] = false;
      xw::log::Warn("left the room (kicked, or the room went away)", {{"room", room->jid}});
    }
    return true;
  }
  const xp::Element* x = presence.Child("x", kNsMucUser);
  const xp::Element* item = x ? x->Child("item") : nullptr;
  const std::string real = item ? item->Attr("jid") : "";
  if (real.empty()) {
    real_[room->jid].erase(nick);
  } else if (real_[room->jid].size() < 10000 || real_[room->jid].count(nick)) {  // a flood of nicks stays bounded
    real_[room->jid][nick] = BareJid(real);
  }
  return true;
}

std::string Rooms::RealJid(const std::string& occupant_jid) const {
  const RoomSpec* room = Find(occupant_jid);
  if (room == nullptr) return "";
  const auto r = real_.find(room->jid);
  if (r == real_.end()) return "";
  const auto n = r->second.find(Resource(occupant_jid));
  return n == r->second.end() ? "" : n->second;
}

std::optional<std::string> Rooms::Addressed(const std::string& body, const std::string& nick) {
  const std::string text = Trim(body);
  if (text.size() <= nick.size() || !EqualsNoCase(std::string_view(text).substr(0, nick.size()), nick)) {
    return std::nullopt;
  }
  const char sep = text[nick.size()];
  if (sep != ':' && sep != ',') return std::nullopt;
  return Trim(std::string_view(text).substr(nick.size() + 1));
}

}  // namespace relay
