#include "flag_value.h"

#include <cmath>
#include <regex>

#include "text_file.h"
#include "web_config.h"

namespace xw::exporter {
namespace {

// Nanoseconds per unit; the longest unit names first so "ms" is not read as "m" then "s".
struct Unit {
  std::string_view name;
  double ns;
};
constexpr Unit kUnits[] = {{"ns", 1},   {"us", 1e3}, {"\xC2\xB5s", 1e3}, {"\xCE\xBCs", 1e3},
                           {"ms", 1e6}, {"s", 1e9},  {"m", 60e9},        {"h", 3600e9}};

bool Digit(char c) {
  return c >= '0' && c <= '9';
}

// A decimal number at the start of `s`: "5", "1.5", ".5", "5." (Go accepts all four).
bool TakeNumber(std::string_view& s, double& value) {
  std::size_t i = 0;
  bool digits = false;
  while (i < s.size() && Digit(s[i])) ++i, digits = true;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && Digit(s[i])) ++i, digits = true;
  }
  if (!digits) return false;
  const auto v = ToDouble(s.substr(0, i));
  if (!v) return false;
  value = *v;
  s.remove_prefix(i);
  return true;
}

}  // namespace

const char* FlagTypeName(FlagType type) {
  switch (type) {
    case FlagType::kString:
      return "string";
    case FlagType::kRegex:
      return "regexp";
    case FlagType::kBool:
      return "bool";
    case FlagType::kDuration:
      return "duration";
    case FlagType::kInt:
      return "int";
  }
  return "string";
}

bool ParseGoDuration(std::string_view text, std::chrono::nanoseconds& out) {
  std::string_view s = text;
  double sign = 1;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    sign = s.front() == '-' ? -1 : 1;
    s.remove_prefix(1);
  }
  if (s.empty()) return false;
  double total = 0;
  bool first = true;
  while (!s.empty()) {
    double n = 0;
    if (!TakeNumber(s, n)) return false;
    if (s.empty()) {
      // A number without a unit: Go allows only "0"; a lone number is seconds here (see header).
      if (!first) return false;
      total = n * 1e9;
      break;
    }
    const Unit* unit = nullptr;
    for (const auto& u : kUnits) {
      if (s.starts_with(u.name) && (unit == nullptr || u.name.size() > unit->name.size())) unit = &u;
    }
    if (unit == nullptr) return false;
    s.remove_prefix(unit->name.size());
    total += n * unit->ns;
    first = false;
  }
  total *= sign;
  // int64 nanoseconds hold about 292 years, as Go's Duration.
  if (!std::isfinite(total) || std::fabs(total) > 9.2e18) return false;
  out = std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(total)));
  return true;
}

std::string FormatGoDuration(std::chrono::nanoseconds d) {
  std::int64_t ns = d.count();
  if (ns == 0) return "0s";
  std::string out = ns < 0 ? "-" : "";
  ns = ns < 0 ? -ns : ns;
  auto decimal = [](std::int64_t whole, std::int64_t frac, int digits) {
    std::string s = std::to_string(whole);
    if (frac == 0) return s;
    std::string f = std::to_string(frac);
    f.insert(0, static_cast<std::size_t>(digits) - f.size(), '0');
    while (f.back() == '0') f.pop_back();
    return s + "." + f;
  };
  if (ns < 1'000) return out + std::to_string(ns) + "ns";
  if (ns < 1'000'000) return out + decimal(ns / 1'000, ns % 1'000, 3) + "us";
  if (ns < 1'000'000'000) return out + decimal(ns / 1'000'000, ns % 1'000'000, 6) + "ms";
  const std::int64_t h = ns / 3'600'000'000'000;
  const std::int64_t m = ns / 60'000'000'000 % 60;
  const std::int64_t sec_ns = ns % 60'000'000'000;
  if (h > 0) out += std::to_string(h) + "h";
  if (h > 0 || m > 0) out += std::to_string(m) + "m";
  return out + decimal(sec_ns / 1'000'000'000, sec_ns % 1'000'000'000, 9) + "s";
}

FlagValue ParseFlagValue(FlagType type, const std::string& flag, const std::string& text) {
  auto fail = [&](const std::string& why) { return ConfigError("--" + flag + ": " + why + ", got '" + text + "'"); };
  switch (type) {
    case FlagType::kString:
      return text;
    case FlagType::kRegex:
      try {
        std::regex re(text);
      } catch (const std::regex_error& e) {
        throw fail(std::string("invalid regexp (") + e.what() + ")");
      }
      return text;
    case FlagType::kBool:
      if (text == "true") return true;
      if (text == "false") return false;
      throw fail("expected true or false");
    case FlagType::kDuration: {
      std::chrono::nanoseconds d{};
      if (!ParseGoDuration(text, d)) throw fail("expected a duration such as 5s, 1m30s, 250ms or 1h");
      return d;
    }
    case FlagType::kInt: {
      const auto v = ToInt64(text);
      if (!v) throw fail("expected an integer");
      return *v;
    }
  }
  return text;
}

}  // namespace xw::exporter
