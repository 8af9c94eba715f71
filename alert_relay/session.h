// The relay's one long-lived XMPP session as alerts@DOMAIN, owned by one thread (XmppClient is
// not thread-safe): it logs in through the load balancer, sends presence so on-call can write
// to it, joins the configured rooms, reconnects with jittered exponential back-off, pings the
// server when idle so a dead connection is noticed, and:
// - delivers notifications the webhook handler queues (bounded queue; each confirmed by a
//   ping round trip, as before; a failure is returned so the handler falls back);
// - hands chat messages to the chat-ops callback and sends its answers back.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "room.h"
#include "sender.h"

namespace relay {

struct SessionOptions {
  XmppOptions xmpp;
  std::vector<RoomSpec> rooms;
  std::size_t queue_limit = 64;  // notifications waiting; beyond, straight to the fallback
  std::chrono::milliseconds backoff_min{1000};
  std::chrono::milliseconds backoff_max{60000};
  std::chrono::seconds keepalive{30};  // idle this long: a ping proves the session lives
};

struct SessionHooks {
  std::function<void(bool up)> up;                         // the session came up or went down
  std::function<void(const std::string& result)> attempt;  // a login attempt: ok|failed
  // A chat message for chat ops: (sender's real JID, "" when unknown; body; where). The
  // answer, or nullopt for none.
  std::function<std::optional<std::string>(const std::string&, const std::string&, const std::string&)> command;
};

class XmppSession {
 public:
  XmppSession(SessionOptions options, SessionHooks hooks);  // throws std::runtime_error on a bad TLS set-up
  ~XmppSession();
  XmppSession(const XmppSession&) = delete;
  XmppSession& operator=(const XmppSession&) = delete;

  void Start();
  void Stop();  // closes the session; queued notifications fail with outcome "stopped"
  // Queues the text for every recipient and room and waits (at most the delivery timeout,
  // plus the time a delivery already under way needs to end) for the session thread to send
  // and confirm it. When the session is down, one login is tried at once.
  Delivery Deliver(const std::string& text);
  const SessionOptions& options() const { return options_; }

 private:
  struct Job;
  void Run();
  bool Connect(xp::Deadline deadline);
  void Disconnect(const std::string& outcome, const std::string& detail);
  std::chrono::milliseconds NextBackoff();
  std::shared_ptr<Job> TakeJob();
  void FailQueued(const Delivery& d);
  void DeliverNow(Job& job);
  void SendAll(const std::string& text, xp::Deadline deadline);
  void Handle(const xp::Element& e);
  void Answer(const xp::Element& msg, const std::string& to, bool groupchat, const std::string& text);

  SessionOptions options_;
  SessionHooks hooks_;
  std::shared_ptr<xp::TlsContext> tls_;
  std::string resource_;  // alert-relay-<random>
  // Session thread only:
  std::unique_ptr<xp::XmppClient> client_;
  Rooms rooms_;
  Delivery last_failure_;
  int failures_ = 0;  // consecutive, for the back-off
  std::chrono::steady_clock::time_point up_since_, last_traffic_;
  std::mt19937 rng_{std::random_device{}()};
  // Shared with Deliver():
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  bool stop_ = false;
  std::chrono::steady_clock::time_point next_attempt_{};
  std::thread thread_;
};

}  // namespace relay
