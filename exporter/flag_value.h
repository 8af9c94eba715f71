// Typed values of collector flags. Each collector declares its flags with a type where it
// registers (collector.h); the command line is checked against that type when it is parsed,
// so a bad value stops the exporter at start with the flag and the value named, never at the
// first scrape.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace xw::exporter {

enum class FlagType {
  kString,
  kRegex,     // a string that must compile as a regular expression (std::regex, ECMAScript)
  kBool,      // --flag, --no-flag, --flag=true|false
  kDuration,  // Go's time.ParseDuration: "5s", "1m30s", "250ms", "1h"; a bare number is seconds
  kInt,
};

const char* FlagTypeName(FlagType type);

// A string for kString and kRegex.
using FlagValue = std::variant<std::string, bool, std::chrono::nanoseconds, std::int64_t>;

// Parses `text` as a value of `type`; throws ConfigError "--<flag>: <why> '<text>'".
FlagValue ParseFlagValue(FlagType type, const std::string& flag, const std::string& text);

// Go's time.ParseDuration grammar ([-+]?(<number><unit>)+, units ns us µs ms s m h, or "0"),
// plus a bare decimal number as seconds: the exporter's duration flags took seconds before
// they were typed, and "--collector.filesystem.mount-timeout=5" keeps working. Returns false
// on anything else (including overflow).
bool ParseGoDuration(std::string_view text, std::chrono::nanoseconds& out);

// Go's Duration.String(): "1m30s", "250ms", "5s", "0s".
std::string FormatGoDuration(std::chrono::nanoseconds d);

}  // namespace xw::exporter
