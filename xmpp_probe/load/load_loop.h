// One event loop of load mode: a share of the sessions as non-blocking state machines on one
// epoll instance, driven by one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <atomic>

#include "xmpp/connection.h"
#include "xmpp/outcome.h"
#include "xmpp/xml_stream.h"

typedef struct ssl_session_st SSL_SESSION;

namespace xp {

struct LoadPlan {
  std::vector<Endpoint> endpoints;  // one per target; session i uses i % size
  std::string domain;
  std::string user_prefix;
  std::string password;
  int users = 1;
  bool tls = true;  // STARTTLS
  bool direct_tls = false;
  std::shared_ptr<TlsContext> tls_ctx;
  std::function<SSL_SESSION*()> resume_session;  // optional: a session to resume (new reference)
  std::string mechanism;                         // upgraded to its -PLUS variant when the server offers it
  int min_scram_iterations = 4096;
  // Bytes one session may read before it is bound (kSessionBudgetExceeded): what the client
  // library allows too (ByteBudgets::login_bytes).
  std::uint64_t login_bytes = 1024 * 1024;
  double login_rate = 100;  // this loop's share
  double message_rate = 1;  // per session
  int total_sessions = 0;
  Clock::time_point start;
  Clock::time_point logins_deadline;  // sessions not logged in by then count as failed
};

// Set by the coordinator while the loops run (steady clock nanoseconds, 0 = not yet).
struct LoadControl {
  std::atomic<std::int64_t> steady_from_ns{0};  // every loop has finished its logins
  std::atomic<std::int64_t> stop_ns{0};         // end of the run
};

struct LoadStats {
  std::uint64_t logins_ok = 0;
  // OutcomeName -> count; "stream_error_<condition>" names the condition, "dropped_<outcome>"
  // a session lost after login.
  std::map<std::string, std::uint64_t> failures;
  std::vector<double> login_seconds;
  std::vector<double> delivery_seconds;
  std::uint64_t sent = 0, received = 0;
  std::uint64_t sent_steady = 0, received_steady = 0;
  std::uint64_t tls_resumed = 0;  // after the last login of all loops
  Clock::time_point last_login{};
};

class LoadLoop {
 public:
  // Sessions with global indexes [first, first+count).
  LoadLoop(const LoadPlan& plan, int first, int count);
  ~LoadLoop();
  LoadLoop(const LoadLoop&) = delete;
  LoadLoop& operator=(const LoadLoop&) = delete;
  void Run(const LoadControl& control);
  const LoadStats& stats() const { return stats_; }
  int active() const { return active_; }
  bool logins_done() const { return logins_done_.load(); }  // read by the coordinator's thread

 private:
  struct Session;
  void StartSession(int local);
  void OnEvent(Session& s, std::uint32_t events);
  void Advance(Session& s);
  void Handle(Session& s, const Element& e);
  void ReadAll(Session& s);
  void Watch(Session& s, bool want_write);
  void Queue(Session& s, const std::string& data);
  void NewTls(Session& s);
  void Flush(Session& s);
  void Fail(Session& s, Outcome outcome, const std::string& condition = {});
  void OpenStream(Session& s);
  void SendMessages(Clock::time_point now);
  std::string Jid(int index) const;

  const LoadPlan& plan_;
  int first_;
  std::vector<std::unique_ptr<Session>> sessions_;
  int epoll_fd_ = -1;
  int started_ = 0;
  int active_ = 0;
  int finished_logins_ = 0;
  std::atomic<bool> logins_done_{false};
  const LoadControl* control_ = nullptr;
  LoadStats stats_;
};

}  // namespace xp
