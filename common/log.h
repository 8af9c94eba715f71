// Structured logging in logfmt (key=value), the format Prometheus' own daemons use, so
// operators can grep and parse exporter and probe logs the same way; or one JSON object per
// line (--log.format=json, as node_exporter offers) for log pipelines that want JSON.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace xw::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Parses "debug", "info", "warn", "error"; throws std::invalid_argument naming the value.
Level ParseLevel(std::string_view name);
void SetLevel(Level level);
// "logfmt" (the default) or "json"; throws std::invalid_argument naming the value.
void SetFormat(std::string_view format);
bool Enabled(Level level);

using Field = std::pair<std::string_view, std::string>;
void Write(Level level, std::string_view msg, std::initializer_list<Field> fields = {});

inline void Debug(std::string_view msg, std::initializer_list<Field> f = {}) {
  Write(Level::kDebug, msg, f);
}
inline void Info(std::string_view msg, std::initializer_list<Field> f = {}) {
  Write(Level::kInfo, msg, f);
}
inline void Warn(std::string_view msg, std::initializer_list<Field> f = {}) {
  Write(Level::kWarn, msg, f);
}
inline void Error(std::string_view msg, std::initializer_list<Field> f = {}) {
  Write(Level::kError, msg, f);
}

}  // namespace xw::log
