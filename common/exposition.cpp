#include "exposition.h"

#include <cmath>
#include <limits>
#include <set>

namespace xw {
namespace {

bool NameChar(char c, bool first, bool allow_colon) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
  return alpha || (!first && c >= '0' && c <= '9');
}

bool ValidName(std::string_view s, bool allow_colon) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!NameChar(s[i], i == 0, allow_colon)) return false;
  }
  return true;
}

double ParseValue(std::string_view s, const std::string& where) {
  if (s == "+Inf" || s == "Inf") return std::numeric_limits<double>::infinity();
  if (s == "-Inf") return -std::numeric_limits<double>::infinity();
  if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
  return DoubleOrThrow(s, where);
}

// The family a sample belongs to: its own name, or a histogram/summary base name.
std::string FamilyOf(const std::string& sample, const std::map<std::string, std::string>& types) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string_view sv(suffix);
    if (sample.size() > sv.size() && sample.ends_with(sv)) {
      std::string base = sample.substr(0, sample.size() - sv.size());
      auto it = types.find(base);
      if (it != types.end() && (it->second == "histogram" || it->second == "summary")) return base;
    }
  }
  return sample;
}

}  // namespace

bool IsValidMetricName(std::string_view name) {
  return ValidName(name, true);
}
bool IsValidLabelName(std::string_view name) {
  return ValidName(name, false);
}

std::vector<ParsedFamily> ParseExposition(std::string_view text) {
  std::vector<ParsedFamily> families;
  std::map<std::string, std::size_t> index;  // family name -> position
  std::map<std::string, std::string> types;  // declared TYPEs
  std::set<std::string> with_samples;        // families that already have samples
  std::set<std::string> series_seen;
  std::set<std::string> with_help;
  auto family = [&](const std::string& name) -> ParsedFamily& {
    auto [it, inserted] = index.emplace(name, families.size());
    if (inserted) families.push_back(ParsedFamily{name, "", "untyped", {}});
    return families[it->second];
  };

  std::size_t line_no = 0;
  for (std::string_view line : Lines(text)) {
    ++line_no;
    const std::string where = "line " + std::to_string(line_no);
    line = Trim(line);
    if (line.empty()) continue;
    if (line.front() == '#') {
      auto f = Fields(line);
      if (f.size() >= 3 && (f[1] == "HELP" || f[1] == "TYPE")) {
        const std::string name(f[2]);
        if (!IsValidMetricName(name)) throw ParseError(where + ": invalid metric name '" + name + "'");
        if (f[1] == "TYPE") {
          if (f.size() != 4) throw ParseError(where + ": TYPE needs exactly one type");
          static const std::set<std::string_view> kTypes{"counter", "gauge", "histogram", "summary", "untyped"};
          if (!kTypes.contains(f[3])) throw ParseError(where + ": unknown type '" + std::string(f[3]) + "'");
          if (with_samples.contains(name) || types.contains(name)) {
            throw ParseError(where + ": TYPE for '" + name + "' after its samples or twice");
          }
          types[name] = std::string(f[3]);
          family(name).type = std::string(f[3]);
        } else {
          const auto pos = line.find(f[2]) + f[2].size();
          // HELP escapes only backslash and newline; anything else after a backslash stays.
          const std::string_view raw = Trim(line.substr(pos));
          std::string help;
          for (std::size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] == '\\' && i + 1 < raw.size() && (raw[i + 1] == '\\' || raw[i + 1] == 'n')) {
              help.push_back(raw[++i] == 'n' ? '\n' : '\\');
            } else {
              help.push_back(raw[i]);
            }
          }
          if (!with_help.insert(name).second) throw ParseError(where + ": second HELP line for '" + name + "'");
          family(name).help = std::move(help);
        }
      }
      continue;
    }
    ParsedSample s;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ' && line[i] != '\t') ++i;
    s.name = std::string(line.substr(0, i));
    if (!IsValidMetricName(s.name)) throw ParseError(where + ": invalid metric name '" + s.name + "'");
    std::string series_key = s.name;
    if (i < line.size() && line[i] == '{') {
      ++i;
      for (;;) {
        while (i < line.size() && line[i] == ' ') ++i;
        if (i < line.size() && line[i] == '}') {
          ++i;
          break;
        }
        const std::size_t ns = i;
        while (i < line.size() && line[i] != '=') ++i;
        const std::string lname(Trim(line.substr(ns, i - ns)));
        if (i >= line.size() || !IsValidLabelName(lname))
          throw ParseError(where + ": invalid label name '" + lname + "'");
        ++i;
        if (i >= line.size() || line[i] != '"') throw ParseError(where + ": label value must be quoted");
        ++i;
        std::string value;
        bool closed = false;
        while (i < line.size()) {
          char c = line[i++];
          if (c == '\\') {
            if (i >= line.size()) break;
            char e = line[i++];
            if (e != 'n' && e != '\\' && e != '"') {
              throw ParseError(where + ": invalid escape sequence '\\" + std::string(1, e) + "' in label value");
            }
            value.push_back(e == 'n' ? '\n' : e);
          } else if (c == '"') {
            closed = true;
            break;
          } else {
            value.push_back(c);
          }
        }
        if (!closed) throw ParseError(where + ": unterminated label value");
        if (!s.labels.emplace(lname, value).second) throw ParseError(where + ": duplicate label '" + lname + "'");
        while (i < line.size() && line[i] == ' ') ++i;
        if (i < line.size() && line[i] == ',') ++i;
      }
      for (const auto& [k, v] : s.labels) series_key += "\x1f" + k + "\x1e" + v;
    }
    auto rest = Fields(line.substr(i));
    if (rest.empty() || rest.size() > 2) throw ParseError(where + ": expected a value (and optional timestamp)");
    s.value = ParseValue(rest[0], where);
    if (rest.size() == 2 && !ToInt64(rest[1])) throw ParseError(where + ": invalid timestamp");
    s.has_timestamp = rest.size() == 2;
    if (!series_seen.insert(series_key).second) throw ParseError(where + ": duplicate series " + s.name);
    const std::string fam = FamilyOf(s.name, types);
    if (const auto t = types.find(fam); t != types.end()) {
      if (t->second == "histogram" && s.name == fam + "_bucket" && !s.labels.contains("le")) {
        throw ParseError(where + ": histogram bucket without an 'le' label");
      }
      if (t->second == "summary" && s.name == fam && !s.labels.contains("quantile")) {
        throw ParseError(where + ": summary quantile without a 'quantile' label");
      }
      if (t->second == "histogram" && s.name == fam) throw ParseError(where + ": histogram sample without a suffix");
    }
    with_samples.insert(fam);
    family(fam).samples.push_back(std::move(s));
  }
  return families;
}

}  // namespace xw
