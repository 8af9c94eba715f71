#include "commands.h"

#include <cctype>
#include <stdexcept>

namespace relay {
namespace {

bool IsNameStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}

bool IsNameChar(char c) {
  return IsNameStart(c) || std::isdigit(static_cast<unsigned char>(c));
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A quoted value: "..." with \" and \\ escapes; anything else is taken as is.
std::string Unquote(std::string_view v) {
  if (v.size() < 2 || v.front() != '"' || v.back() != '"') {
    if (v.find('"') != std::string_view::npos) throw std::invalid_argument("a quote inside an unquoted value");
    return std::string(v);
  }
  std::string out;
  for (std::size_t i = 1; i + 1 < v.size(); ++i) {
    if (v[i] == '\\' && i + 2 < v.size()) {
      out += v[++i];
    } else if (v[i] == '"') {
      throw std::invalid_argument("a quote inside a quoted value (write \\\")");
    } else {
      out += v[i];
    }
  }
  return out;
}

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return !s.empty();
}

std::string Label(const nlohmann::json& alert, const char* name) {
  const auto labels = alert.find("labels");
  if (labels == alert.end() || !labels->is_object()) return "";
  const auto v = labels->find(name);
  return v != labels->end() && v->is_string() ? v->get<std::string>() : "";
}

}  // namespace

std::string Matcher::ToString() const {
  bool plain = !value.empty();
  for (char c : value) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '"' || c == '\\') plain = false;
  }
  std::string v = value;
  if (!plain) {
    v = "\"";
    for (char c : value) {
      if (c == '"' || c == '\\') v += '\\';
      v += c;
    }
    v += '"';
  }
  return name + (equal ? (regex ? "=~" : "=") : (regex ? "!~" : "!=")) + v;
}

std::vector<std::string> SplitWords(std::string_view text) {
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false, quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      cur += c;
      if (c == '\\' && i + 1 < text.size()) {
        cur += text[++i];
      } else if (c == '"') {
        quoted = false;
      }
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (in_word) words.push_back(std::move(cur));
      cur.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    cur += c;
    if (c == '"') quoted = true;
  }
  if (quoted) throw std::invalid_argument("unterminated quote");
  if (in_word) words.push_back(std::move(cur));
  return words;
}

std::chrono::seconds ParseDuration(std::string_view text) {
  if (text.empty()) throw std::invalid_argument("empty duration");
  long long total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    long long n = 0;
    const std::size_t start = i;
    for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
      n = n * 10 + (text[i] - '0');
      if (n > 1'000'000) throw std::invalid_argument("duration '" + std::string(text) + "' is too long");
    }
    if (i == start || i == text.size()) {
      throw std::invalid_argument("duration '" + std::string(text) + "': write it like 30m, 1h, 2d or 1h30m");
    }
    long long unit = 0;
    switch (text[i++]) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      case 'w':
        unit = 7 * 86400;
        break;
      default:
        throw std::invalid_argument("duration '" + std::string(text) + "': units are s, m, h, d and w");
    }
    total += n * unit;
    if (total > kMaxSilence.count()) break;
  }
  if (total < 60) throw std::invalid_argument("duration '" + std::string(text) + "': at least 1m");
  if (total > kMaxSilence.count()) {
    throw std::invalid_argument("duration '" + std::string(text) + "': at most " + FormatDuration(kMaxSilence));
  }
  return std::chrono::seconds(total);
}

Matcher ParseMatcher(std::string_view token) {
  std::size_t i = 0;
  if (token.empty() || !IsNameStart(token[0])) {
    throw std::invalid_argument("matcher '" + Printable(token, 80) +
                                "': write name=value, name!=value, name=~regex or name!~regex");
  }
  while (i < token.size() && IsNameChar(token[i])) ++i;
  Matcher m;
  m.name = std::string(token.substr(0, i));
  const std::string_view rest = token.substr(i);
  std::size_t op = 0;
  if (rest.starts_with("=~")) {
    m.regex = true, op = 2;
  } else if (rest.starts_with("!~")) {
    m.equal = false, m.regex = true, op = 2;
  } else if (rest.starts_with("!=")) {
    m.equal = false, op = 2;
  } else if (rest.starts_with("=")) {
    op = 1;
  } else {
    throw std::invalid_argument("matcher '" + Printable(token, 80) +
                                "': write name=value, name!=value, name=~regex or name!~regex");
  }
  m.value = Unquote(rest.substr(op));
  return m;
}

std::string FormatDuration(std::chrono::seconds d) {
  long long s = d.count();
  std::string out;
  for (const auto& [unit, len] : {std::pair{'d', 86400LL}, {'h', 3600LL}, {'m', 60LL}, {'s', 1LL}}) {
    if (s >= len) {
      out += std::to_string(s / len) + unit;
      s %= len;
    }
  }
  return out.empty() ? "0s" : out;
}

std::string Usage(Command::Kind kind) {
  switch (kind) {
    case Command::Kind::kSilence:
      return "usage: silence DURATION MATCHER...  (e.g. silence 1h alertname=DiskFull instance=node1)";
    case Command::Kind::kUnsilence:
      return "usage: unsilence SILENCE_ID";
    case Command::Kind::kAlerts:
      return "usage: alerts";
    case Command::Kind::kAck:
      return "usage: ack FINGERPRINT  (the first column of `alerts`)";
    case Command::Kind::kHelp:
      break;
  }
  return "usage: help";
}

std::string HelpText() {
  return "Commands:\n"
         "  alerts - what is firing now (fingerprint, alertname, severity, instance)\n"
         "  silence DURATION MATCHER... - e.g. silence 1h alertname=DiskFull instance=node1\n"
         "      DURATION: 30m, 2h, 1d, 1h30m (at most " +
         FormatDuration(kMaxSilence) +
         "); MATCHER: name=value, name!=value, name=~regex, name!~regex\n"
         "  unsilence SILENCE_ID - expire a silence\n"
         "  ack FINGERPRINT - silence that alert until it resolves\n"
         "  help - this text";
}

Command ParseCommand(std::string_view text) {
  Command c;
  std::vector<std::string> words;
  try {
    words = SplitWords(text);
  } catch (const std::invalid_argument& e) {
    words = {std::string(text.substr(0, text.find(' ')))};
    c.error = e.what();
  }
  if (words.empty()) return c;
  const std::string verb = Lower(words[0]);
  const std::size_t args = words.size() - 1;
  auto fail = [&](Command::Kind kind, std::string why) {
    c = Command{};
    c.kind = kind;
    c.error = std::move(why);
    return c;
  };
  if (verb == "help") return Command{};
  if (verb == "alerts") {
    if (args != 0) return fail(Command::Kind::kAlerts, "`alerts` takes no arguments");
    c.kind = Command::Kind::kAlerts;
    return c;
  }
  if (verb == "silence") {
    if (!c.error.empty()) return fail(Command::Kind::kSilence, c.error);
    if (args < 2) return fail(Command::Kind::kSilence, "a duration and at least one matcher are needed");
    try {
      c.duration = ParseDuration(words[1]);
      for (std::size_t i = 2; i < words.size(); ++i) c.matchers.push_back(ParseMatcher(words[i]));
    } catch (const std::invalid_argument& e) {
      return fail(Command::Kind::kSilence, e.what());
    }
    if (c.matchers.size() > 32) return fail(Command::Kind::kSilence, "at most 32 matchers");
    c.kind = Command::Kind::kSilence;
    return c;
  }
  if (verb == "unsilence" || verb == "ack") {
    const auto kind = verb == "ack" ? Command::Kind::kAck : Command::Kind::kUnsilence;
    if (args != 1) return fail(kind, "exactly one argument is needed");
    const std::string& id = words[1];
    if (kind == Command::Kind::kAck && (!IsHex(id) || id.size() > 16)) {
      return fail(kind, "'" + Printable(id, 40) + "' is not an alert fingerprint (16 hex digits)");
    }
    if (kind == Command::Kind::kUnsilence) {
      // Alertmanager's IDs are UUIDs; anything else cannot name a silence.
      for (char ch : id) {
        if (!std::isxdigit(static_cast<unsigned char>(ch)) && ch != '-') {
          return fail(kind, "'" + Printable(id, 40) + "' is not a silence ID");
        }
      }
      if (id.size() > 64) return fail(kind, "not a silence ID (too long)");
    }
    c.kind = kind;
    c.id = Lower(id);
    return c;
  }
  return Command{};  // anything else: help
}

std::string FormatAlerts(const nlohmann::json& alerts, std::size_t max_alerts, std::size_t max_line) {
  if (!alerts.is_array() || alerts.empty()) return "No alerts firing.";
  std::string out = std::to_string(alerts.size()) + (alerts.size() == 1 ? " alert" : " alerts") + " firing:";
  std::size_t shown = 0;
  for (const auto& a : alerts) {
    if (shown == max_alerts) {
      out += "\n... and " + std::to_string(alerts.size() - shown) + " more";
      break;
    }
    if (!a.is_object()) continue;
    const auto fp = a.find("fingerprint");
    std::string line =
        (fp != a.end() && fp->is_string() ? fp->get<std::string>() : std::string("?")) + " " + Label(a, "alertname");
    const std::string severity = Label(a, "severity"), instance = Label(a, "instance");
    if (!severity.empty()) line += " (" + severity + ")";
    if (!instance.empty()) line += " on " + instance;
    line = Printable(line, max_line * 4);
    if (line.size() > max_line) line = line.substr(0, max_line - 3) + "...";
    out += "\n" + line;
    ++shown;
  }
  return out;
}

std::string BareJid(std::string_view jid) {
  return Lower(jid.substr(0, jid.find('/')));
}

std::string Printable(std::string_view text, std::size_t max_bytes) {
  std::string out;
  for (unsigned char c : text) {
    if (out.size() >= max_bytes) {
      out += "...";
      break;
    }
    if (c < 0x20 || c == 0x7f) {
      static const char* kHex = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace relay
