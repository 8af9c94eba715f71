// One-value files under /proc/sys and /sys (counts, limits, device attributes), shared by the
// collectors that read many of them (conntrack, entropy, netclass, hwmon, thermal, cpufreq, edac).
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kept_file.h"
#include "text_file.h"

namespace xw::exporter {

// The file's content without surrounding whitespace; nullopt when it cannot be read at all.
// sysfs attributes fail with EINVAL/ENODEV when the device cannot answer (carrier of a down
// link, speed of a virtual NIC): node_exporter treats those as absent, and so do we.
inline std::optional<std::string> ReadAttribute(const std::string& path);

// A one-number file. nullopt when missing; throws ParseError naming the file when it is
// there but holds something else.
inline std::optional<double> ReadNumberIfExists(const std::string& path);
// Like ReadNumberIfExists, but a missing file is a ParseError too.
inline double ReadNumber(const std::string& path);
// The same for a file read every scrape: kept open, as /proc/sys path lookups are the
// expensive part of reading one number.
inline std::optional<double> ReadNumberIfExists(KeptFile& file);
inline double ReadNumber(KeptFile& file);

// Integer in C notation as sysfs prints them: decimal, or 0x-prefixed hex (flags, dev_id).
inline std::optional<std::int64_t> ParseCInt(std::string_view s);
// Unprefixed hex, as in /proc/net/softnet_stat and /proc/net/stat/*.
inline std::optional<std::uint64_t> ParseHex(std::string_view s);

// Header-only: small, and shared by several collectors without a CMake list entry.
// A directory held open so its attributes are opened relative to it (openat): a device
// directory under /sys/class/net is reached through a symlink, and resolving it once instead
// of once per attribute halves the cost of reading twenty attributes.
class SysDir {
 public:
  explicit SysDir(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {}
  ~SysDir() {
    if (fd_ >= 0) ::close(fd_);
  }
  SysDir(const SysDir&) = delete;
  SysDir& operator=(const SysDir&) = delete;
  bool ok() const { return fd_ >= 0; }
  // Like ReadAttribute, for a file in this directory.
  std::optional<std::string> Read(const char* name) const;

 private:
  int fd_;
};

namespace detail {
inline std::optional<std::string> ReadFd(int fd) {
  if (fd < 0) return std::nullopt;
  // Attributes are at most a page; one read is what sysfs serves.
  char buf[4096];
  ssize_t n;
  do {
    n = ::read(fd, buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
  ::close(fd);
  if (n < 0) return std::nullopt;
  return std::string(Trim(std::string_view(buf, static_cast<std::size_t>(n))));
}
}  // namespace detail

inline std::optional<std::string> ReadAttribute(const std::string& path) {
  return detail::ReadFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
}

// Re-reads an attribute file kept open: sysfs regenerates the value on every read from
// offset 0, so one pread replaces open, read and close.
inline std::optional<std::string> PreadAttribute(int fd) {
  if (fd < 0) return std::nullopt;
  char buf[4096];
  ssize_t n;
  do {
    n = ::pread(fd, buf, sizeof buf, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return std::nullopt;
  return std::string(Trim(std::string_view(buf, static_cast<std::size_t>(n))));
}

inline std::optional<std::string> SysDir::Read(const char* name) const {
  if (fd_ < 0) return std::nullopt;
  return detail::ReadFd(::openat(fd_, name, O_RDONLY | O_CLOEXEC));
}

inline std::optional<double> ReadNumberIfExists(const std::string& path) {
  const auto text = ReadFileIfExists(path, 4096);
  if (!text) return std::nullopt;
  return DoubleOrThrow(Trim(*text), path);
}

inline double ReadNumber(const std::string& path) {
  return DoubleOrThrow(Trim(ReadFile(path, 4096)), path);
}

inline std::optional<double> ReadNumberIfExists(KeptFile& file) {
  const auto text = file.ReadIfExists();
  if (!text) return std::nullopt;
  return DoubleOrThrow(Trim(*text), file.path());
}

inline double ReadNumber(KeptFile& file) {
  return DoubleOrThrow(Trim(file.Read()), file.path());
}

inline std::optional<std::int64_t> ParseCInt(std::string_view s) {
  bool negative = false;
  if (!s.empty() && s.front() == '-') {
    negative = true;
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return negative ? -v : v;
}

inline std::optional<std::uint64_t> ParseHex(std::string_view s) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace xw::exporter
