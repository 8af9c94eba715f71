// XEP-0045 rooms the relay sits in: notifications also go there as groupchat, and on-call may
// address commands to the relay there ("alerts: silence 1h alertname=X"). The relay creates a
// room that does not exist yet (an instant room, so it owns it and, as a moderator, sees
// occupants' real JIDs even in a semi-anonymous room); a command counts only when the
// sender's real JID is known and allow-listed.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "xmpp/xmpp_client.h"

namespace relay {

inline constexpr const char* kNsMuc = "http://jabber.org/protocol/muc";
inline constexpr const char* kNsMucUser = "http://jabber.org/protocol/muc#user";
inline constexpr const char* kNsMucOwner = "http://jabber.org/protocol/muc#owner";

struct RoomSpec {
  std::string jid;   // room@conference.domain, lower-cased
  std::string nick;  // the relay's nickname there
};

// "room@conference.domain[/nick]"; the nick defaults to default_nick. Throws
// std::invalid_argument.
RoomSpec ParseRoom(const std::string& spec, const std::string& default_nick);

// Occupants' real JIDs, from the presences the room sends a moderator.
class Rooms {
 public:
  explicit Rooms(std::vector<RoomSpec> specs) : specs_(std::move(specs)) {}

  const std::vector<RoomSpec>& specs() const { return specs_; }
  // The spec of the room a JID (bare or room/nick) belongs to; nullptr for other JIDs.
  const RoomSpec* Find(const std::string& jid) const;
  // Joins every room (creating it when needed) on a freshly logged-in client. A room that
  // refuses or does not answer is logged and skipped; stream failures are thrown.
  void JoinAll(xp::XmppClient& client, xp::Deadline deadline);
  bool joined(const std::string& room) const { return joined_.count(room) > 0; }
  void Reset();  // the session ended: no room joined, no occupant known

  // A presence from a room: occupant came, went, or our join was refused. Returns false for
  // presences from anywhere else.
  bool OnPresence(const xp::Element& presence);
  // Real bare JID of room/nick; "" when the room does not tell us.
  std::string RealJid(const std::string& occupant_jid) const;

  // The command in a groupchat body addressed to the relay ("alerts: help", "alerts, help");
  // nullopt when the message is for the others in the room.
  static std::optional<std::string> Addressed(const std::string& body, const std::string& nick);

 private:
  bool Join(xp::XmppClient& client, const RoomSpec& room, xp::Deadline deadline);

  std::vector<RoomSpec> specs_;
  std::map<std::string, bool> joined_;                              // room -> joined
  std::map<std::string, std::map<std::string, std::string>> real_;  // room -> nick -> bare JID
};

// The resource part of a JID ("room@c.d/nick" -> "nick"); "" when none.
std::string Resource(const std::string& jid);

}  // namespace relay
