// Chat-ops commands as on-call types them to the relay ("silence 1h alertname=DiskFull"):
// parsing and the text of the answers. No I/O here, so every rule is unit-tested
// (tests/rules/relay/relay_commands_test.cpp); chatops.* runs them against Alertmanager.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace relay {

// One Alertmanager matcher: name=value, name!=value, name=~regex, name!~regex.
struct Matcher {
  std::string name;
  std::string value;
  bool equal = true;             // = and =~ (false: != and !~)
  bool regex = false;            // =~ and !~
  std::string ToString() const;  // as typed, the value quoted when it needs it
};

struct Command {
  enum class Kind { kHelp, kSilence, kUnsilence, kAlerts, kAck };
  Kind kind = Kind::kHelp;
  std::chrono::seconds duration{0};  // silence
  std::vector<Matcher> matchers;     // silence
  std::string id;                    // unsilence: silence ID; ack: alert fingerprint
  // Set when the command word was known but its arguments were not: the answer is this
  // error and the command's usage line, not the whole help.
  std::string error;
};

// The longest `silence` accepted: a forgotten silence hides a real outage for this long.
inline constexpr std::chrono::seconds kMaxSilence = std::chrono::hours(24 * 30);

// Never throws: anything unparsable is kHelp (with `error` for a known command word).
Command ParseCommand(std::string_view text);

// "30m", "1h", "2d", "1h30m", "1w" (s, m, h, d, w). Throws std::invalid_argument.
std::chrono::seconds ParseDuration(std::string_view text);
// "name=value" and friends; the value may be double-quoted ("a b", with \" and \\).
// Throws std::invalid_argument.
Matcher ParseMatcher(std::string_view token);
// Splits on blanks, keeping double-quoted runs (with their quotes) inside one word.
// Throws std::invalid_argument on an unterminated quote.
std::vector<std::string> SplitWords(std::string_view text);

// "1h30m" from seconds, for answers.
std::string FormatDuration(std::chrono::seconds d);

std::string HelpText();
// "usage: silence DURATION MATCHER..." for a command kind.
std::string Usage(Command::Kind kind);

// The answer to `alerts`: one line per alert (fingerprint, alertname, severity, instance),
// lines cut at max_line characters, at most max_alerts lines and then "... and N more".
// `alerts` is Alertmanager's GET /api/v2/alerts array (gettableAlerts).
std::string FormatAlerts(const nlohmann::json& alerts, std::size_t max_alerts = 20, std::size_t max_line = 160);

// Lower-cased, resource dropped: "Oncall@XMPP.test/phone" -> "oncall@xmpp.test". ASCII
// case folding only, which is what the stack's JIDs need; the allow-list compares these.
std::string BareJid(std::string_view jid);

// Control bytes replaced so a sender's text can be quoted in an answer or a log line.
std::string Printable(std::string_view text, std::size_t max_bytes = 200);

}  // namespace relay
