#include "probe/e2e_ledger.h"

#include <algorithm>

namespace xp {

namespace {

// How long decided messages stay recognisable, and how many at most: an e2e module sends one
// message per receiver every few seconds, so this covers a long late tail at bounded memory.
constexpr auto kRemember = std::chrono::minutes(10);
constexpr std::size_t kRememberMax = 4096;

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

const std::vector<double>& E2eDeliveryBuckets() {
  static const std::vector<double> b{0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2, 5, 10, 30};
  return b;
}

E2eLedger::E2eLedger(const std::vector<std::string>& receivers, std::chrono::milliseconds bound) : bound_(bound) {
  for (const auto& r : receivers) counts_[r].buckets.assign(E2eDeliveryBuckets().size() + 1, 0);
}

std::uint64_t E2eLedger::Next() {
  std::lock_guard lock(mu_);
  return ++next_;
}

void E2eLedger::Sent(const std::string& receiver, std::uint64_t n, Clock::time_point at) {
  std::lock_guard lock(mu_);
  auto c = counts_.find(receiver);
  if (c == counts_.end()) return;
  ++c->second.sent;
  pending_[n] = Pending{receiver, at};
}

void E2eLedger::NotSent(const std::string& receiver) {
  std::lock_guard lock(mu_);
  auto c = counts_.find(receiver);
  if (c == counts_.end()) return;
  ++c->second.sent;
  ++c->second.failed_not_sent;
}

void E2eLedger::Remember(std::map<std::uint64_t, std::string>& set, Order& order, std::uint64_t n,
                         const std::string& receiver, Clock::time_point at) {
  set[n] = receiver;
  order.emplace_back(n, at);
  while (!order.empty() && (order.size() > kRememberMax || at - order.front().second > kRemember)) {
    set.erase(order.front().first);
    order.pop_front();
  }
}

std::optional<double> E2eLedger::Arrived(const std::string& receiver, std::uint64_t n, Clock::time_point at) {
  std::lock_guard lock(mu_);
  auto c = counts_.find(receiver);
  if (c == counts_.end()) return std::nullopt;
  E2eReceiverCounts& rc = c->second;
  if (auto p = pending_.find(n); p != pending_.end()) {
    if (p->second.receiver != receiver) return std::nullopt;  // not addressed here: not ours to count
    const double latency = std::max(0.0, Seconds(at - p->second.sent));
    pending_.erase(p);
    if (latency > Seconds(bound_)) {
      // Arrived before Expire ran but after the bound: the same verdict Expire would give.
      ++rc.failed_timeout;
      ++rc.late;
      Remember(failed_, failed_order_, n, receiver, at);
      return std::nullopt;
    }
    ++rc.delivered;
    const auto& b = E2eDeliveryBuckets();
    const auto i = static_cast<std::size_t>(std::lower_bound(b.begin(), b.end(), latency) - b.begin());
    ++rc.buckets[i];  // le is inclusive: a latency of exactly 0.5 lands in the 0.5 bucket
    rc.latency_sum += latency;
    rc.last_latency = latency;
    Remember(delivered_, delivered_order_, n, receiver, at);
    return latency;
  }
  if (auto f = failed_.find(n); f != failed_.end() && f->second == receiver) {
    ++rc.late;
    failed_.erase(f);  // a third copy is a duplicate of the late one, not late again
    Remember(delivered_, delivered_order_, n, receiver, at);
    return std::nullopt;
  }
  if (auto d = delivered_.find(n); d != delivered_.end() && d->second == receiver) ++rc.duplicated;
  return std::nullopt;
}

void E2eLedger::Expire(Clock::time_point now) {
  std::lock_guard lock(mu_);
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (now - it->second.sent <= bound_) {
      ++it;
      continue;
    }
    ++counts_[it->second.receiver].failed_timeout;
    Remember(failed_, failed_order_, it->first, it->second.receiver, now);
    it = pending_.erase(it);
  }
}

std::map<std::string, E2eReceiverCounts> E2eLedger::Counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

std::size_t E2eLedger::InFlight() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}

}  // namespace xp
