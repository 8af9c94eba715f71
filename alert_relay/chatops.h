// Chat ops: what the relay does with a chat message from on-call ("silence 1h
// alertname=DiskFull"). Only bare JIDs on the allow-list get any action or answer; everyone
// else is logged and counted. Commands run against Alertmanager's API v2 and keep no state in
// the relay: an `ack` is a silence found again by its comment, so a restarted relay still
// expires it when the alert resolves.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "alertmanager.h"

namespace relay {

struct ChatOpsOptions {
  std::vector<std::string> allow;  // bare JIDs; empty: chat ops off
  std::string alertmanager_url = "http://127.0.0.1:9093";
  std::chrono::milliseconds timeout{5000};  // one Alertmanager call
  // How long an `ack` silence lasts at most when the resolution is never seen.
  std::chrono::seconds ack_max = std::chrono::hours(24 * 7);
};

struct ChatOpsHooks {
  std::function<void(const std::string& command, const std::string& result)> counted;  // result ok|error
  std::function<void()> refused;                                                       // a sender not on the allow-list
};

// The comment that marks a silence as the `ack` of one alert: "xmppwatch-ack fingerprint=FP: ...".
std::string AckCommentPrefix(const std::string& fingerprint);

class ChatOps {
 public:
  ChatOps(ChatOpsOptions options, ChatOpsHooks hooks);

  bool enabled() const { return !allow_.empty(); }
  bool Allowed(const std::string& bare_jid) const { return allow_.count(BareJid(bare_jid)) > 0; }
  // The answer to `text` from `sender` (a full or bare JID; empty when unknown, as in an
  // anonymous room); nullopt when the sender gets none (not allowed: logged and counted).
  // `where` says where it came from, for the log ("chat", "room ROOM").
  std::optional<std::string> Handle(const std::string& sender, const std::string& text, const std::string& where);

  // The resolved notification of these alerts arrived: their ack silences are expired.
  // Returns how many; Alertmanager errors are logged, not thrown.
  int ExpireAcks(const std::vector<std::string>& fingerprints);
  // Ack silences whose alert Alertmanager no longer holds are expired. Alertmanager mutes the
  // resolved notification of a silenced alert, so without this sweep an ack would run until
  // ack_max. Returns how many; errors are logged.
  int SweepAcks();

 private:
  std::string Silence(const std::string& who, const Command& c);
  std::string Unsilence(const std::string& id);
  std::string Alerts();
  std::string Ack(const std::string& who, const std::string& fingerprint);
  // Active or pending ack silences: (fingerprint, silence ID).
  std::vector<std::pair<std::string, std::string>> AckSilences();

  std::set<std::string> allow_;
  ChatOpsOptions options_;
  ChatOpsHooks hooks_;
  AlertmanagerClient am_;
};

}  // namespace relay
