#include "text_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "unique_fd.h"

namespace xw {

std::optional<std::string> ReadFileIfExists(const std::string& path, std::size_t max_bytes) {
  const UniqueFd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!f.ok()) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    throw ParseError(path + ": " + std::strerror(errno));
  }
  std::string out;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::read(f.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw ParseError(path + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > max_bytes) {
      throw ParseError(path + ": larger than " + std::to_string(max_bytes) + " bytes");
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

std::string ReadFile(const std::string& path, std::size_t max_bytes) {
  auto content = ReadFileIfExists(path, max_bytes);
  if (!content) throw ParseError(path + ": no such file");
  return std::move(*content);
}

std::string_view Trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  Fields(line, out);
  return out;
}

void Fields(std::string_view line, std::vector<std::string_view>& out) {
  out.clear();
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

std::optional<std::uint64_t> ToUint64(std::string_view s) {
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<std::int64_t> ToInt64(std::string_view s) {
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<double> ToDouble(std::string_view s) {
  // Nearly every number in /proc and /sys is a plain integer: those are read digit by digit,
  // a few times faster than the general parser and to the same value (an integer of up to 15
  // digits is exactly a double). Everything else goes to from_chars.
  const bool negative = !s.empty() && s.front() == '-';
  if (const auto digits = s.substr(negative ? 1 : 0); !digits.empty() && digits.size() <= 15) {
    std::uint64_t n = 0;
    bool plain = true;
    for (const char c : digits) {
      if (c < '0' || c > '9') {
        plain = false;
        break;
      }
      n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (plain) return negative ? -static_cast<double>(n) : static_cast<double>(n);
  }
  double v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::uint64_t Uint64OrThrow(std::string_view s, const std::string& where) {
  if (auto v = ToUint64(s)) return *v;
  throw ParseError(where + ": '" + std::string(s) + "' is not a number");
}

double DoubleOrThrow(std::string_view s, const std::string& where) {
  if (auto v = ToDouble(s)) return *v;
  throw ParseError(where + ": '" + std::string(s) + "' is not a number");
}

std::uint64_t Uint64OrThrow(std::string_view s, const FileLine& where) {
  if (auto v = ToUint64(s)) return *v;
  return Uint64OrThrow(s, where.str());
}

double DoubleOrThrow(std::string_view s, const FileLine& where) {
  if (auto v = ToDouble(s)) return *v;
  return DoubleOrThrow(s, where.str());
}

}  // namespace xw
