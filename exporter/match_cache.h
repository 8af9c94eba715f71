// A user-supplied exclude/include regexp with its answers remembered. Mount points and device
// names repeat on every scrape, and std::regex_search costs microseconds each.
#pragma once

#include <mutex>
#include <regex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

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

// For field filters over files whose names come in the same order on every read
// (/proc/vmstat, the header lines of /proc/net/netstat): the answer for each position is
// remembered with its name, so a scrape costs one string compare per field instead of a hash
// lookup under a lock. A name not where it was before (a new kernel field) is asked of the
// regexp and remembered in its place.
class OrderedMatchCache {
 public:
  OrderedMatchCache(const std::string& pattern, const std::string& flag) : matches_(pattern, flag) {}

  // One walk over a file, start to end; holds the cache for itself until destroyed.
  class Pass {
   public:
    explicit Pass(const OrderedMatchCache& cache) : cache_(cache), lock_(cache.mu_) {}
    bool Matches(std::string_view name);

   private:
    const OrderedMatchCache& cache_;
    std::unique_lock<std::mutex> lock_;
    std::size_t pos_ = 0;
  };
  Pass Begin() const { return Pass(*this); }

 private:
  MatchCache matches_;
  mutable std::mutex mu_;
  mutable std::vector<std::pair<std::string, bool>> order_;
};

}  // namespace xw::exporter
