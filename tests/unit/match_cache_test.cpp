// The field filters' regexp caches: answers must be the regexp's, whatever order the names
// come in and however the remembered order goes stale.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include "match_cache.h"
#include "web_config.h"

namespace xw::exporter {
namespace {

TEST(MatchCache, AnswersAsTheRegexpAndRejectsABadOne) {
  const MatchCache m("^(oom_kill|pgpg)", "collector.vmstat.fields");
  EXPECT_TRUE(m.Matches("pgpgin"));
  EXPECT_TRUE(m.Matches("pgpgin"));  // remembered
  EXPECT_FALSE(m.Matches("nr_free_pages"));
  EXPECT_THROW(MatchCache("(", "collector.vmstat.fields"), ConfigError);
}

TEST(OrderedMatchCache, FollowsNamesThatMoveOrAppear) {
  const OrderedMatchCache m("^pg", "collector.vmstat.fields");
  auto walk = [&](std::initializer_list<const char*> names) {
    std::string got;
    auto pass = m.Begin();
    for (const char* n : names) got += pass.Matches(n) ? '1' : '0';
    return got;
  };
  EXPECT_EQ(walk({"nr_free", "pgpgin", "pgfault"}), "011");
  EXPECT_EQ(walk({"nr_free", "pgpgin", "pgfault"}), "011");
  // A new kernel field in the middle shifts every later position.
  EXPECT_EQ(walk({"nr_free", "pgnew", "pgpgin", "oom_kill", "pgfault"}), "01101");
  EXPECT_EQ(walk({"pgpgin", "nr_free"}), "10");  // shorter, reordered
  EXPECT_EQ(walk({"nr_free", "pgnew", "pgpgin", "oom_kill", "pgfault"}), "01101");
}

TEST(OrderedMatchCache, SecondWalkWaitsForTheFirst) {
  const OrderedMatchCache m("^a", "f");
  std::optional<OrderedMatchCache::Pass> first(m.Begin());
  EXPECT_TRUE(first->Matches("abc"));
  std::atomic<bool> second_done = false;
  std::thread t([&] {
    auto second = m.Begin();
    EXPECT_FALSE(second.Matches("xyz"));
    second_done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(second_done);  // the first walk still holds the cache
  first.reset();
  t.join();
  EXPECT_TRUE(second_done);
}

}  // namespace
}  // namespace xw::exporter
