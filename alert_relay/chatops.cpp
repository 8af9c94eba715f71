#include "chatops.h"

#include <cctype>

#include "commands.h"
#include "log.h"

namespace relay {
namespace {

constexpr const char* kAckTag = "xmppwatch-ack fingerprint=";

const char* Name(Command::Kind k) {
  switch (k) {
    case Command::Kind::kSilence:
      return "silence";
    case Command::Kind::kUnsilence:
      return "unsilence";
    case Command::Kind::kAlerts:
      return "alerts";
    case Command::Kind::kAck:
      return "ack";
    case Command::Kind::kHelp:
      break;
  }
  return "help";
}

std::string Joined(const std::vector<Matcher>& matchers) {
  std::string out;
  for (const auto& m : matchers) out += (out.empty() ? "" : " ") + m.ToString();
  return out;
}

// "2026-12-07 09:00 UTC" for answers.
std::string Short(TimePoint t) {
  const std::string s = Rfc3339(t);
  return s.substr(0, 10) + " " + s.substr(11, 5) + " UTC";
}

std::string StringAt(const nlohmann::json& j, const char* a, const char* b = nullptr) {
  const nlohmann::json* p = &j;
  for (const char* k : {a, b}) {
    if (k == nullptr) break;
    if (!p->is_object() || !p->contains(k)) return "";
    p = &(*p)[k];
  }
  return p->is_string() ? p->get<std::string>() : "";
}

}  // namespace

std::string AckCommentPrefix(const std::string& fingerprint) {
  return kAckTag + fingerprint + ":";
}

ChatOps::ChatOps(ChatOpsOptions options, ChatOpsHooks hooks)
    : options_(std::move(options)), hooks_(std::move(hooks)), am_(options_.alertmanager_url, options_.timeout) {
  for (const auto& j : options_.allow) allow_.insert(BareJid(j));
}

std::optional<std::string> ChatOps::Handle(const std::string& sender, const std::string& text,
                                           const std::string& where) {
  const std::string who = BareJid(sender);
  if (who.empty() || !Allowed(who)) {
    if (hooks_.refused) hooks_.refused();
    // Escaped and bounded: the text is the sender's, and may be anything.
    xw::log::Warn("chat ops: sender not on the allow-list, no action",
                  {{"sender", sender.empty() ? "unknown (no real JID)" : Printable(sender, 100)},
                   {"where", where},
                   {"text", Printable(text, 120)}});
    return std::nullopt;
  }
  const Command c = ParseCommand(text);
  const char* name = Name(c.kind);
  std::string answer;
  bool ok = true;
  if (!c.error.empty()) {
    ok = false;
    answer = "error: " + c.error + "\n" + Usage(c.kind);
  } else {
    try {
      switch (c.kind) {
        case Command::Kind::kSilence:
          answer = Silence(who, c);
          break;
        case Command::Kind::kUnsilence:
          answer = Unsilence(c.id);
          break;
        case Command::Kind::kAlerts:
          answer = Alerts();
          break;
        case Command::Kind::kAck:
          answer = Ack(who, c.id);
          break;
        case Command::Kind::kHelp:
          answer = HelpText();
          break;
      }
    } catch (const AlertmanagerError& e) {
      ok = false;
      answer = std::string("error: ") + e.what();
    }
  }
  if (hooks_.counted) hooks_.counted(name, ok ? "ok" : "error");
  xw::log::Info("chat ops command", {{"sender", who},
                                     {"where", where},
                                     {"command", name},
                                     {"result", ok ? "ok" : "error"},
                                     {"text", Printable(text, 200)},
                                     {"answer", Printable(answer.substr(0, answer.find('\n')), 200)}});
  return answer;
}

std::string ChatOps::Silence(const std::string& who, const Command& c) {
  const auto now = std::chrono::system_clock::now();
  const auto end = now + c.duration;
  const std::string matchers = Joined(c.matchers);
  const std::string id =
      am_.CreateSilence(SilenceBody(c.matchers, now, end, who,
                                    Printable("from chat (xmppwatch alert relay) by " + who + ": silence " +
                                                  FormatDuration(c.duration) + " " + matchers,
                                              900)));
  return "Silenced for " + FormatDuration(c.duration) + " (until " + Short(end) + "): " + matchers + "\nsilence ID " +
         id + " (undo: unsilence " + id + ")";
}

std::string ChatOps::Unsilence(const std::string& id) {
  am_.ExpireSilence(id);
  return "Silence " + id + " expired.";
}

std::string ChatOps::Alerts() {
  return FormatAlerts(am_.Alerts(false));
}

std::string ChatOps::Ack(const std::string& who, const std::string& fingerprint) {
  const auto alerts = am_.Alerts(true);
  const nlohmann::json* alert = nullptr;
  for (const auto& a : alerts) {
    if (StringAt(a, "fingerprint") == fingerprint) alert = &a;
  }
  if (alert == nullptr) return "error: no alert with fingerprint " + fingerprint + " (see `alerts`)";
  const std::string what = StringAt(*alert, "labels", "alertname");
  for (const auto& [fp, id] : AckSilences()) {
    if (fp == fingerprint) return "Already acknowledged: " + fingerprint + " " + what + ", silence ID " + id;
  }
  const auto now = std::chrono::system_clock::now();
  const auto end = now + options_.ack_max;
  const std::string id = am_.CreateSilence(SilenceBody(
      ExactMatchers((*alert)["labels"]), now, end, who,
      AckCommentPrefix(fingerprint) + " acknowledged in chat by " + who +
          "; expired by the xmppwatch alert relay when the alert resolves (at the latest " + Short(end) + ")"));
  return "Acknowledged " + fingerprint + " " + what + ": silenced until it resolves (at most " +
         FormatDuration(options_.ack_max) + "), silence ID " + id;
}

std::vector<std::pair<std::string, std::string>> ChatOps::AckSilences() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& s : am_.Silences()) {
    const std::string state = StringAt(s, "status", "state");
    const std::string comment = StringAt(s, "comment");
    if ((state != "active" && state != "pending") || !comment.starts_with(kAckTag)) continue;
    const std::string rest = comment.substr(std::string(kAckTag).size());
    const auto colon = rest.find(':');
    if (colon == std::string::npos) continue;
    out.emplace_back(rest.substr(0, colon), StringAt(s, "id"));
  }
  return out;
}

int ChatOps::ExpireAcks(const std::vector<std::string>& fingerprints) {
  if (fingerprints.empty()) return 0;
  int n = 0;
  try {
    for (const auto& [fp, id] : AckSilences()) {
      for (const auto& want : fingerprints) {
        if (fp != want) continue;
        am_.ExpireSilence(id);
        ++n;
        xw::log::Info("ack silence expired: the alert resolved", {{"fingerprint", fp}, {"silence", id}});
      }
    }
  } catch (const AlertmanagerError& e) {
    xw::log::Warn("could not expire ack silences", {{"err", e.what()}});
  }
  return n;
}

int ChatOps::SweepAcks() {
  int n = 0;
  try {
    const auto acks = AckSilences();
    if (acks.empty()) return 0;
    std::set<std::string> present;
    for (const auto& a : am_.Alerts(true)) present.insert(StringAt(a, "fingerprint"));
    for (const auto& [fp, id] : acks) {
      if (present.count(fp)) continue;
      am_.ExpireSilence(id);
      ++n;
      xw::log::Info("ack silence expired: its alert is gone from Alertmanager", {{"fingerprint", fp}, {"silence", id}});
    }
  } catch (const AlertmanagerError& e) {
    xw::log::Warn("ack sweep failed", {{"err", e.what()}});
  }
  return n;
}

}  // namespace relay
