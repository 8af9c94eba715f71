// Reading and tokenising the small text files under /proc and /sys.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace xw {

// A file that cannot be read or does not parse; the message names the file and the problem.
struct ParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Reads a whole file. /proc files report size 0, so this reads until EOF; files larger than
// max_bytes are an error rather than an unbounded allocation. Throws ParseError.
std::string ReadFile(const std::string& path, std::size_t max_bytes = 16u << 20);
// Like ReadFile, but a missing file (ENOENT/ENOTDIR) gives nullopt.
std::optional<std::string> ReadFileIfExists(const std::string& path, std::size_t max_bytes = 16u << 20);

std::string_view Trim(std::string_view s);
// Splits on runs of spaces and tabs.
std::vector<std::string_view> Fields(std::string_view line);
// The same into `out` (cleared first), so a parser walking many lines reuses one vector.
void Fields(std::string_view line, std::vector<std::string_view>& out);
// Splits text into lines (no trailing empty line).
std::vector<std::string_view> Lines(std::string_view text);

// Strict number parsing: the whole token must be a number. nullopt otherwise.
std::optional<std::uint64_t> ToUint64(std::string_view s);
std::optional<std::int64_t> ToInt64(std::string_view s);
std::optional<double> ToDouble(std::string_view s);

// A line of a file as error messages name it ("/proc/vmstat line 12"). Formatted only when an
// error is thrown: parsers hold one for every line of every scrape.
class FileLine {
 public:
  FileLine(const std::string& path, std::size_t line) : path_(path), line_(line) {}
  std::string str() const { return path_ + " line " + std::to_string(line_); }

 private:
  const std::string& path_;
  std::size_t line_;
};
inline std::string operator+(const FileLine& where, std::string_view rest) {
  return where.str().append(rest);
}

// Parses or throws ParseError("<where>: '<token>' is not a number").
std::uint64_t Uint64OrThrow(std::string_view s, const std::string& where);
double DoubleOrThrow(std::string_view s, const std::string& where);
std::uint64_t Uint64OrThrow(std::string_view s, const FileLine& where);
double DoubleOrThrow(std::string_view s, const FileLine& where);

}  // namespace xw
