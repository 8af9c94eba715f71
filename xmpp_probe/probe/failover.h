// failover: what users feel when a node dies. Two persistent sessions through the load
// balancer (a sender and a receiver); every interval the sender sends a numbered message and
// both ping the server. A broken session reconnects with back-off, resuming its XEP-0198
// stream when the server still knows it. Outage = last success to first success after the
// break; detection = last success to the moment the client noticed.
//
// Messages carry XEP-0184 receipt requests and the sender behaves like a careful client: after
// a fresh login it resends every message it holds no receipt for, since a server may have
// acknowledged a stanza (XEP-0198 <a/>) and died before delivering it. "Lost" is what never
// arrived even so; "resent" counts the messages that needed it (non-zero means the server
// dropped or delayed messages it had accepted), duplicates and delays are counted too.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "probe/config.h"

namespace xp {

struct Outage {
  std::string session;   // "sender" or "receiver"
  double duration = 0;   // last success -> first success after the break
  double detection = 0;  // last success -> break noticed
  int reconnect_attempts = 0;
  bool resumed = false;  // XEP-0198 resumption succeeded
  std::string cause;     // outcome name of the break
};

struct FailoverStats {
  std::uint64_t sent = 0, acked = 0, received = 0, receipts = 0, resent = 0;
  std::uint64_t lost = 0, duplicated = 0, delayed = 0, unconfirmed = 0;
  std::uint64_t reconnect_attempts = 0, resumes = 0, fresh_logins = 0;
  bool sender_up = false, receiver_up = false;
  std::string last_error;       // most recent connection failure, for operators
  std::vector<Outage> outages;  // newest last, bounded
  std::vector<double> delays;   // send -> receive seconds of recent messages (bounded)
  double max_delay = 0;         // the slowest delivery of the whole run
};

class FailoverRunner {
 public:
  FailoverRunner(ModuleConfig module, std::string target);
  ~FailoverRunner();
  FailoverRunner(const FailoverRunner&) = delete;
  FailoverRunner& operator=(const FailoverRunner&) = delete;

  void Start();
  // Stops sending, waits up to `grace` for messages still in flight, then settles: every
  // acknowledged message not received by then counts as lost.
  void Stop(std::chrono::milliseconds grace = std::chrono::seconds(2));
  FailoverStats Snapshot();
  // Called (from a session thread) each time an outage ends.
  void OnOutage(std::function<void(const Outage&)> callback) { on_outage_ = std::move(callback); }

  // Exposed for tests: parse "fo <run> <n> <ns>" bodies.
  static bool ParseBody(const std::string& body, std::uint64_t& run, std::uint64_t& n, std::int64_t& sent_ns);

 private:
  struct Message {
    std::int64_t sent_ns = 0;
    std::uint32_t seq = 0;    // XEP-0198 sequence, 0 if none
    std::uint64_t epoch = 0;  // which fresh login that sequence belongs to
    bool acked = false;
    bool receipt = false;
    int received = 0;
    Clock::time_point first_sent;
  };
  class Session;

  void SenderTick(XmppClient& client, Deadline deadline);
  void SenderFreshLogin(XmppClient& client, Deadline deadline);
  void SendResends(XmppClient& client, Deadline deadline);
  void UpdateAcks(const XmppClient& client);
  void OnStanza(const Element& e, bool at_sender);
  void Settle(bool final_pass);
  void RecordOutage(const Outage& o);

  ModuleConfig module_;
  std::string target_;
  std::uint64_t run_id_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> sending_{false};
  std::mutex mu_;
  std::map<std::uint64_t, Message> messages_;
  std::uint64_t next_n_ = 0;
  std::uint64_t sender_epoch_ = 0;
  bool receiver_ever_up_ = false;
  // Resends wait until the receiver is logged in again: sent while it reconnects, they go to
  // its old full JID, which right after a node crash may still name a session on the dead
  // node, where the server drops them.
  std::uint64_t receiver_logins_ = 0;
  std::uint64_t resend_after_login_ = 0;  // send `resend_` once receiver_logins_ reaches this
  std::vector<std::uint64_t> resend_;
  Clock::time_point last_settle_;
  FailoverStats stats_;
  std::string receiver_jid_;
  std::function<void(const Outage&)> on_outage_;
  std::vector<std::unique_ptr<Session>> sessions_;
  std::vector<std::thread> threads_;
};

}  // namespace xp
