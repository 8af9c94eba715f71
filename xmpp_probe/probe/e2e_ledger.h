// Accounting of the continuous end-to-end module (e2e.h): which numbered message went to which
// receiver, when it arrived, and what never did. No clock and no network here: every call takes
// the moment it happened, so the rules (delivered within the bound, late, failed, duplicated)
// are unit-tested with fixed time points.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "xmpp/xmpp_client.h"

namespace xp {

// Upper bounds (seconds) of xmpp_probe_e2e_delivery_seconds. 0.5 is exact: the latency SLO
// counts deliveries under 500 ms (the seed's figure) straight from the le="0.5" bucket, and the
// buckets either side of it are fine enough to see a drift towards it before it is crossed.
const std::vector<double>& E2eDeliveryBuckets();

struct E2eReceiverCounts {
  std::uint64_t sent = 0;              // messages handed to the sender's session for this receiver
  std::uint64_t delivered = 0;         // arrived within the bound (each one observed in the histogram)
  std::uint64_t failed_timeout = 0;    // sent, not arrived within the bound
  std::uint64_t failed_not_sent = 0;   // due while the sender had no session: a user could not send
  std::uint64_t late = 0;              // arrived after being counted failed
  std::uint64_t duplicated = 0;        // extra copies
  std::vector<std::uint64_t> buckets;  // per bucket, not cumulative; last is +Inf
  double latency_sum = 0;
  double last_latency = 0;
};

class E2eLedger {
 public:
  E2eLedger(const std::vector<std::string>& receivers, std::chrono::milliseconds bound);

  // A number for the next message (unique within this ledger).
  std::uint64_t Next();
  // Recorded before the message is written: on loopback it can arrive before the write returns.
  void Sent(const std::string& receiver, std::uint64_t n, Clock::time_point at);
  // A tick came while the sender had no session: the message a user would have sent failed.
  void NotSent(const std::string& receiver);
  // Message n seen at `receiver`. Returns the latency when it counts as delivered.
  std::optional<double> Arrived(const std::string& receiver, std::uint64_t n, Clock::time_point at);
  // Messages pending longer than the bound become failed (reason timeout).
  void Expire(Clock::time_point now);

  std::map<std::string, E2eReceiverCounts> Counts() const;
  std::size_t InFlight() const;
  std::chrono::milliseconds bound() const { return bound_; }

 private:
  struct Pending {
    std::string receiver;
    Clock::time_point sent;
  };
  using Order = std::deque<std::pair<std::uint64_t, Clock::time_point>>;
  static void Remember(std::map<std::uint64_t, std::string>& set, Order& order, std::uint64_t n,
                       const std::string& receiver, Clock::time_point at);

  const std::chrono::milliseconds bound_;
  mutable std::mutex mu_;
  std::uint64_t next_ = 0;
  std::map<std::uint64_t, Pending> pending_;
  // Decided messages still recognised, so a late or second copy is counted rather than ignored
  // (bounded in count and age).
  std::map<std::uint64_t, std::string> failed_, delivered_;
  Order failed_order_, delivered_order_;
  std::map<std::string, E2eReceiverCounts> counts_;
};

}  // namespace xp
