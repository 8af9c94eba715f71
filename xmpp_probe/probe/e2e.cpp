// The e2e sessions: connection upkeep, the sender's ticks, arrivals at the receivers. What
// counts as delivered, failed or late is E2eLedger's (e2e_ledger.cpp).
#include "probe/e2e.h"

#include <random>
#include <sstream>

#include "log.h"
#include "probe/modules.h"

namespace xp {

namespace {

constexpr const char* kSender = "sender";

// Missed ticks counted at once after a long blocking reconnect attempt: the attempt is bounded
// by the module's timeout, so this only guards against a silly configuration.
constexpr int kMaxCatchUpTicks = 1000;

}  // namespace

class E2eRunner::Session {
 public:
  Session(E2eRunner& runner, std::string name, ClientConfig cfg)
      : runner_(runner), name_(std::move(name)), sender_(name_ == kSender), client_(std::move(cfg)) {}

  void Run() {
    const E2eOptions& opt = runner_.module_.e2e;
    // Bounded by stop_: the runner's owner decides how long this lives; every wait below is
    // bounded by the next tick, the ping timeout, or the module's timeout.
    while (!runner_.stop_) {
      try {
        auto now = Clock::now();
        if (now >= next_tick_) {
          if (sender_) {
            runner_.Tick(connected_ ? &client_ : nullptr, now + opt.ping_timeout);
            // Ticks missed while a reconnect attempt blocked: each was a message not sent.
            for (int i = 0; !connected_ && next_tick_ + opt.interval <= now && i < kMaxCatchUpTicks; ++i) {
              next_tick_ += opt.interval;
              runner_.Tick(nullptr, now);
            }
          }
          if (connected_ && ping_id_.empty()) {
            ping_id_ = client_.NextId("e2e-ping");
            ping_sent_ = now;
            client_.Send("<iq type='get' id='" + ping_id_ + "' to='" + client_.config().domain +
                             "'><ping xmlns='urn:xmpp:ping'/></iq>",
                         now + opt.ping_timeout);
          }
          next_tick_ = std::max(next_tick_ + opt.interval, now);
        }
        if (sender_) runner_.ledger_.Expire(now);
        if (!connected_) {
          if (now >= next_attempt_) {
            Reconnect();
          } else {
            auto until = std::min({next_attempt_, next_tick_, now + std::chrono::milliseconds(100)});
            std::this_thread::sleep_for(until - now);
          }
          continue;
        }
        if (!ping_id_.empty() && now - ping_sent_ > opt.ping_timeout) {
          throw ProbeError(Outcome::kTimeout,
                           "no ping reply within " + std::to_string(opt.ping_timeout.count()) + "ms");
        }
        Deadline wait = next_tick_;
        if (!ping_id_.empty()) wait = std::min(wait, ping_sent_ + opt.ping_timeout);
        if (auto e = client_.Receive(wait)) {
          const auto at = Clock::now();
          if (e->name == "iq" && e->Attr("id") == ping_id_) {
            ping_id_.clear();
          } else if (!sender_ && e->name == "message") {
            runner_.OnReceived(name_, *e, at);
          }
        }
      } catch (const ProbeError& e) {
        Fail(std::string(OutcomeName(e.outcome())) + ": " + e.what());
      }
    }
    client_.Close(Clock::now() + std::chrono::milliseconds(300));
  }

 private:
  void Fail(const std::string& why) {
    connected_ = false;
    ping_id_.clear();
    client_.Close(Clock::now());
    runner_.SetUp(name_, false, "");
    runner_.SetError(name_ + ": " + why);
    xw::log::Info("e2e session lost", {{"session", name_}, {"err", why}});
    // The first attempt goes at once (a node died, the load balancer has another); back-off
    // starts from there.
    next_attempt_ = Clock::now();
    backoff_ = runner_.module_.e2e.backoff_initial;
  }

  void Reconnect() {
    const E2eOptions& opt = runner_.module_.e2e;
    const Deadline d = Clock::now() + runner_.module_.timeout;
    try {
      client_.Connect(d);
      client_.Authenticate(d);
      client_.Bind(d);
      if (!sender_) client_.SendPresence(d);  // available: messages to this full JID reach us
      connected_ = true;
      backoff_ = opt.backoff_initial;
      runner_.SetUp(name_, true, client_.jid());
    } catch (const ProbeError& e) {
      client_.Close(Clock::now());
      runner_.SetError(name_ + ": " + std::string(OutcomeName(e.outcome())) + ": " + e.what());
      xw::log::Debug("e2e login failed", {{"session", name_}, {"outcome", std::string(OutcomeName(e.outcome()))}});
      // Jittered exponential back-off: many probes restarting together do not beat in step.
      static thread_local std::mt19937 rng{std::random_device{}()};
      const auto half = backoff_.count() / 2;
      next_attempt_ =
          Clock::now() + std::chrono::milliseconds(half + std::uniform_int_distribution<long>(0, half)(rng));
      backoff_ = std::min(backoff_ * 2, opt.backoff_max);
    }
  }

  E2eRunner& runner_;
  std::string name_;
  bool sender_;
  XmppClient client_;
  bool connected_ = false;
  Clock::time_point next_tick_ = Clock::now();
  Clock::time_point next_attempt_ = Clock::now();
  std::chrono::milliseconds backoff_ = runner_.module_.e2e.backoff_initial;
  std::string ping_id_;
  Clock::time_point ping_sent_;
};

namespace {

std::vector<std::string> Labels(const ModuleConfig& m) {
  std::vector<std::string> out;
  for (const auto& [label, account] : m.e2e.receivers) out.push_back(label);
  return out;
}

}  // namespace

E2eRunner::E2eRunner(ModuleConfig module)
    : module_(std::move(module)), run_id_(std::random_device{}()), ledger_(Labels(module_), module_.e2e.lost_after) {
  up_[kSender] = false;
  for (const auto& label : Labels(module_)) up_[label] = false;
}

E2eRunner::~E2eRunner() {
  Stop();
}

bool E2eRunner::ParseBody(const std::string& body, std::uint64_t& run, std::uint64_t& n) {
  std::istringstream in(body);
  std::string tag, rest;
  if (!(in >> tag >> run >> n) || tag != "e2e") return false;
  return !(in >> rest);
}

void E2eRunner::Start() {
  if (!threads_.empty()) return;
  stop_ = false;
  // A suffix per run: a second probe on the same accounts gets its own full JIDs instead of
  // kicking this one's sessions off, back and forth.
  const std::string suffix = "-" + std::to_string(run_id_ % 100000);
  // Every password is read before any thread starts: a missing one fails Start as a whole.
  std::vector<std::unique_ptr<Session>> sessions;
  for (const auto& [label, account] : module_.e2e.receivers) {
    ClientConfig c = MakeClientConfig(module_, account, module_.target, "xmpp_probe-e2e-" + label);
    c.resource += suffix;
    sessions.push_back(std::make_unique<Session>(*this, label, std::move(c)));
  }
  ClientConfig tx = MakeClientConfig(module_, module_.account, module_.target, "xmpp_probe-e2e-tx");
  tx.resource += suffix;
  sessions.push_back(std::make_unique<Session>(*this, kSender, std::move(tx)));
  sessions_ = std::move(sessions);
  for (auto& s : sessions_) threads_.emplace_back([&s] { s->Run(); });
}

void E2eRunner::Stop() {
  stop_ = true;
  for (auto& t : threads_) t.join();
  threads_.clear();
  sessions_.clear();
}

void E2eRunner::Tick(XmppClient* sender, Deadline deadline) {
  std::map<std::string, std::string> to;
  {
    std::lock_guard lock(mu_);
    if (!sender) {
      // Before the sender's first login there is no service to measure yet, only our start.
      if (!sender_ever_up_) return;
      for (const auto& [label, jid] : receiver_jids_) ledger_.NotSent(label);
      return;
    }
    to = receiver_jids_;
  }
  // A receiver that is not logged in is skipped: its node (or its direct port) is down, which
  // the node alerts cover; users reach the other node through the load balancer.
  for (const auto& [label, jid] : to) {
    const std::uint64_t n = ledger_.Next();
    ledger_.Sent(label, n, Clock::now());
    // If the write fails the message stays pending: it may have reached the server.
    sender->SendMessage(jid, "e2e " + std::to_string(run_id_) + " " + std::to_string(n), "e2e-" + std::to_string(n),
                        false, deadline);
  }
}

void E2eRunner::OnReceived(const std::string& receiver, const Element& e, Clock::time_point at) {
  const Element* body = e.Child("body");
  std::uint64_t run = 0, n = 0;
  if (!body || !ParseBody(body->text, run, n) || run != run_id_) return;  // not ours, or an earlier run's
  ledger_.Arrived(receiver, n, at);
}

void E2eRunner::SetUp(const std::string& session, bool up, const std::string& jid) {
  std::lock_guard lock(mu_);
  up_[session] = up;
  if (up) ++logins_[session];
  if (session == kSender) {
    sender_ever_up_ = sender_ever_up_ || up;
  } else if (up) {
    receiver_jids_[session] = jid;
  } else {
    receiver_jids_.erase(session);
  }
}

void E2eRunner::SetError(const std::string& error) {
  std::lock_guard lock(mu_);
  last_error_ = error;
}

E2eSnapshot E2eRunner::Snapshot() {
  // Expired here too, so a scrape sees failures even while the sender waits on a reconnect.
  ledger_.Expire(Clock::now());
  E2eSnapshot s;
  s.receivers = ledger_.Counts();
  s.in_flight = ledger_.InFlight();
  s.bound_seconds = std::chrono::duration<double>(ledger_.bound()).count();
  std::lock_guard lock(mu_);
  s.up = up_;
  for (const auto& [session, logins] : logins_) s.reconnects[session] = logins > 0 ? logins - 1 : 0;
  s.last_error = last_error_;
  return s;
}

}  // namespace xp
