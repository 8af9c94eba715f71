#include "match_cache.h"

#include "web_config.h"

namespace xw::exporter {

namespace {
// Names come from the host's own mount table and devices; the bound only guards a host
// that churns through thousands of container mounts.
constexpr std::size_t kMaxEntries = 4096;
}  // namespace

MatchCache::MatchCache(const std::string& pattern, const std::string& flag) {
  try {
    re_ = std::regex(pattern);
  } catch (const std::regex_error& e) {
    throw ConfigError("--" + flag + ": invalid regexp '" + pattern + "': " + e.what());
  }
}

bool MatchCache::Matches(const std::string& s) const {
  std::lock_guard lock(mu_);
  if (const auto it = seen_.find(s); it != seen_.end()) return it->second;
  if (seen_.size() >= kMaxEntries) seen_.clear();
  const bool m = std::regex_search(s, re_);
  seen_.emplace(s, m);
  return m;
}

bool OrderedMatchCache::Pass::Matches(std::string_view name) {
  auto& order = cache_.order_;
  const std::size_t pos = pos_++;
  if (pos < order.size() && order[pos].first == name) return order[pos].second;
  const std::string key(name);
  const bool m = cache_.matches_.Matches(key);
  if (pos < order.size())
    order[pos] = {key, m};
  else if (order.size() < kMaxEntries)
    order.emplace_back(key, m);
  return m;
}

}  // namespace xw::exporter
