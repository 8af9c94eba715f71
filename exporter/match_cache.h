// A user-supplied exclude/include regexp with its answers remembered. Mount points and device
// names repeat on every scrape, and std::regex_search costs microseconds each.
#pragma once

#include <mutex>
#include <regex>
#include <string>
#include <unordered_map>

namespace xw::exporter {

class MatchCache {
 public:
  // Throws ConfigError naming `flag` when the pattern does not compile.
  MatchCache(const std::string& pattern, const std::string& flag);
  bool Matches(const std::string& s) const;

 private:
  std::regex re_;
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, bool> seen_;
};

}  // namespace xw::exporter
