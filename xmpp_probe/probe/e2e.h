// e2e: the continuous end-to-end module behind the SLOs. A sender logs in through the module's
// target (the load balancer) and, every `interval`, sends one numbered message to each
// receiver that is logged in; each receiver is pinned to one node (its account's target). The
// load balancer, not the client, picks the sender's node, so sending to a receiver on every
// node means at least one message of each tick crosses the cluster, whichever node that is;
// the `receiver` label says which node a delivery ended on, which is all the client truly
// knows. Send to arrival is timed on one monotonic clock (one process), so no clock skew.
//
// Sessions are kept up like failover's: XEP-0199 pings every interval, a missing pong or a
// broken connection ends the session, reconnection with jittered exponential back-off, every
// wait bounded by the module's timeout. Accounting (delivered within `lost_after`, failed,
// late, duplicated) is E2eLedger's.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "probe/config.h"
#include "probe/e2e_ledger.h"

namespace xp {

struct E2eSnapshot {
  std::map<std::string, E2eReceiverCounts> receivers;  // by receiver label
  std::map<std::string, bool> up;                      // "sender" and each receiver label
  std::map<std::string, std::uint64_t> reconnects;     // same keys: logins after the first
  std::size_t in_flight = 0;
  double bound_seconds = 0;
  std::string last_error;
};

class E2eRunner {
 public:
  explicit E2eRunner(ModuleConfig module);
  ~E2eRunner();
  E2eRunner(const E2eRunner&) = delete;
  E2eRunner& operator=(const E2eRunner&) = delete;

  // Reads the passwords (throws ProbeError kConfigError when one is missing), starts a thread
  // per session.
  void Start();
  void Stop();
  E2eSnapshot Snapshot();

  // Exposed for tests: "e2e <run> <n>".
  static bool ParseBody(const std::string& body, std::uint64_t& run, std::uint64_t& n);

 private:
  class Session;
  // The sender's tick: one message to every receiver that is up, or (no sender session) one
  // failure for each, once the sender has been up at all.
  void Tick(XmppClient* sender, Deadline deadline);
  void OnReceived(const std::string& receiver, const Element& e, Clock::time_point at);
  void SetUp(const std::string& session, bool up, const std::string& jid);
  void SetError(const std::string& error);

  ModuleConfig module_;
  std::uint64_t run_id_;
  E2eLedger ledger_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::map<std::string, std::string> receiver_jids_;  // receivers logged in now: label -> full JID
  std::map<std::string, bool> up_;
  std::map<std::string, std::uint64_t> logins_;
  bool sender_ever_up_ = false;
  std::string last_error_;
  std::vector<std::unique_ptr<Session>> sessions_;
  std::vector<std::thread> threads_;
};

}  // namespace xp
