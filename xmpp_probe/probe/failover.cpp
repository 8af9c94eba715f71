// The failover sessions: connection upkeep, pings, outage timing. Message accounting is in
// failover_accounting.cpp.
#include "probe/failover.h"

#include <random>

#include "log.h"
#include "probe/modules.h"

namespace xp {

class FailoverRunner::Session {
 public:
  Session(FailoverRunner& runner, std::string name, ClientConfig cfg, bool sender)
      : runner_(runner), name_(std::move(name)), client_(std::move(cfg)), sender_(sender) {}

  void Run() {
    const auto& opt = runner_.module_.failover;
    Clock::time_point next_tick = Clock::now();
    // Bounded by stop_: the runner's owner decides how long this lives.
    while (!runner_.stop_) {
      if (!connected_ && !Reconnect()) continue;
      try {
        auto now = Clock::now();
        if (now >= next_tick) {
          Deadline d = now + opt.ping_timeout;
          if (sender_ && runner_.sending_) runner_.SenderTick(client_, d);
          if (ping_id_.empty()) {
            ping_id_ = client_.NextId("fo-ping");
            ping_sent_ = now;
            client_.Send("<iq type='get' id='" + ping_id_ + "' to='" + client_.config().domain +
                             "'><ping xmlns='urn:xmpp:ping'/></iq>",
                         d);
          }
          client_.RequestAck(d);
          next_tick = std::max(next_tick + opt.interval, now);
        }
        if (!ping_id_.empty() && Clock::now() - ping_sent_ > opt.ping_timeout) {
          throw ProbeError(Outcome::kTimeout,
                           "no ping reply within " + std::to_string(opt.ping_timeout.count()) + "ms");
        }
        Deadline wait = next_tick;
        if (!ping_id_.empty()) wait = std::min(wait, ping_sent_ + opt.ping_timeout);
        if (auto e = client_.Receive(wait)) {
          if (e->name == "iq" && e->Attr("id") == ping_id_) {
            ping_id_.clear();
            Success();
          } else {
            runner_.OnStanza(*e, sender_);
          }
        }
        if (sender_) runner_.UpdateAcks(client_);
      } catch (const ProbeError& e) {
        Fail(std::string(OutcomeName(e.outcome())));
      }
    }
    client_.Close(Clock::now() + std::chrono::milliseconds(300));
  }

 private:
  void SetUp(bool up) {
    std::lock_guard lock(runner_.mu_);
    (sender_ ? runner_.stats_.sender_up : runner_.stats_.receiver_up) = up;
  }

  void Success() {
    last_success_ = Clock::now();
    if (!in_outage_) return;
    in_outage_ = false;
    outage_.duration = std::chrono::duration<double>(last_success_ - down_since_).count();
    runner_.RecordOutage(outage_);
  }

  void Fail(const std::string& cause) {
    connected_ = false;
    ping_id_.clear();
    SetUp(false);
    client_.Close(Clock::now());
    if (in_outage_) return;
    if (!ever_up_) {
      // Not up yet, so no outage to time; keep backing off instead of hammering the server.
      first_attempt_ = false;
      return;
    }
    in_outage_ = true;
    down_since_ = last_success_;
    outage_ = Outage{};
    outage_.session = name_;
    outage_.cause = cause;
    outage_.detection = std::chrono::duration<double>(Clock::now() - down_since_).count();
    backoff_ = runner_.module_.failover.backoff_initial;
    first_attempt_ = true;
  }

  bool Reconnect() {
    const auto& opt = runner_.module_.failover;
    if (!first_attempt_) {
      // Jittered exponential back-off, slept in slices so Stop() is not held up.
      static thread_local std::mt19937 rng{std::random_device{}()};
      auto sleep =
          backoff_ / 2 + std::chrono::milliseconds(std::uniform_int_distribution<long>(0, backoff_.count() / 2)(rng));
      for (auto end = Clock::now() + sleep; Clock::now() < end && !runner_.stop_;) {
        std::this_thread::sleep_for(std::min<Clock::duration>(end - Clock::now(), std::chrono::milliseconds(20)));
      }
      backoff_ = std::min(backoff_ * 2, opt.backoff_max);
    }
    first_attempt_ = false;
    if (runner_.stop_) return false;
    if (in_outage_) ++outage_.reconnect_attempts;
    {
      std::lock_guard lock(runner_.mu_);
      if (in_outage_) ++runner_.stats_.reconnect_attempts;
    }
    Deadline d = Clock::now() + runner_.module_.timeout;
    try {
      client_.Connect(d);
      client_.Authenticate(d);
      bool resumed = false;
      if (opt.resume && client_.sm().enabled && !client_.sm().id.empty()) {
        try {
          client_.Resume(std::min(d, Clock::now() + opt.resume_timeout));
          resumed = true;
        } catch (const ProbeError& e) {
          if (e.outcome() == Outcome::kTimeout && Clock::now() < d) {
            // The server is still waiting on the node that held the session: give the
            // resumption up and log in afresh on a new stream, as a client would.
            xw::log::Debug("failover resume timed out, logging in afresh", {{"session", name_}});
            client_.Close(Clock::now());
            client_.Connect(d);
            client_.Authenticate(d);
          } else if (e.outcome() != Outcome::kResumeFailed) {
            throw;
          }
        }
      }
      if (!resumed) {
        client_.Bind(d);
        client_.EnableSm(opt.resume, d);
        if (sender_)
          runner_.SenderFreshLogin(client_, d);
        else
          client_.SendPresence(d);  // available: offline messages are flushed to us now
      }
      {
        std::lock_guard lock(runner_.mu_);
        if (in_outage_) ++(resumed ? runner_.stats_.resumes : runner_.stats_.fresh_logins);
        if (!sender_) {
          runner_.receiver_jid_ = client_.jid();
          runner_.receiver_ever_up_ = true;
          ++runner_.receiver_logins_;
        }
      }
      outage_.resumed = resumed;
      connected_ = true;
      SetUp(true);
      if (!ever_up_) last_success_ = Clock::now();
      ever_up_ = true;
      return true;
    } catch (const ProbeError& e) {
      client_.Close(Clock::now());
      // Which attempt failed how, and after how long: what tells a slow failover's cause.
      xw::log::Debug(
          "failover reconnect attempt failed",
          {{"session", name_},
           {"outcome", std::string(OutcomeName(e.outcome()))},
           {"err", e.what()},
           {"attempt_seconds",
            std::to_string(std::chrono::duration<double>(Clock::now() - (d - runner_.module_.timeout)).count())}});
      {
        std::lock_guard lock(runner_.mu_);
        runner_.stats_.last_error = name_ + ": " + std::string(OutcomeName(e.outcome())) + ": " + e.what();
      }
      if (!in_outage_) Fail(std::string(OutcomeName(e.outcome())));
      return false;
    }
  }

  FailoverRunner& runner_;
  std::string name_;
  XmppClient client_;
  bool sender_;
  bool connected_ = false;
  bool first_attempt_ = true;
  bool in_outage_ = false;
  bool ever_up_ = false;
  std::chrono::milliseconds backoff_ = runner_.module_.failover.backoff_initial;
  std::string ping_id_;
  Clock::time_point ping_sent_;
  Clock::time_point last_success_{};
  Clock::time_point down_since_;
  Outage outage_;
};

FailoverRunner::FailoverRunner(ModuleConfig module, std::string target)
    : module_(std::move(module)),
      target_(target.empty() ? module_.target : std::move(target)),
      run_id_(std::random_device{}()) {}

FailoverRunner::~FailoverRunner() {
  Stop(std::chrono::milliseconds(0));
}

void FailoverRunner::Start() {
  if (!threads_.empty()) return;
  stop_ = false;
  sending_ = true;
  // The receiver's resource is fixed so its full JID is known before it first binds.
  ClientConfig rx = MakeClientConfig(module_, module_.peer, target_, "xmpp_probe-failover-rx");
  ClientConfig tx = MakeClientConfig(module_, module_.account, target_, "xmpp_probe-failover-tx");
  // A suffix per run: two probes (the daemon and a drill) on the same accounts would
  // otherwise share full JIDs, and the server resolves that by kicking one, back and forth.
  rx.resource += "-" + std::to_string(run_id_ % 100000);
  tx.resource += "-" + std::to_string(run_id_ % 100000);
  receiver_jid_ = rx.user + "@" + rx.domain + "/" + rx.resource;
  sessions_.push_back(std::make_unique<Session>(*this, "receiver", rx, false));
  sessions_.push_back(std::make_unique<Session>(*this, "sender", tx, true));
  for (auto& s : sessions_) threads_.emplace_back([&s] { s->Run(); });
}

void FailoverRunner::Stop(std::chrono::milliseconds grace) {
  if (threads_.empty()) return;
  sending_ = false;
  // A tick that saw sending_ still true may be mid-send: let it finish and be recorded.
  std::this_thread::sleep_for(
      std::min<Clock::duration>(grace, module_.failover.interval + std::chrono::milliseconds(50)));
  for (auto end = Clock::now() + grace; Clock::now() < end;) {
    {
      std::lock_guard lock(mu_);
      bool pending = false;
      for (const auto& [n, m] : messages_) pending = pending || m.received == 0;
      if (!pending) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop_ = true;
  for (auto& t : threads_) t.join();
  threads_.clear();
  sessions_.clear();
  Settle(true);
}

}  // namespace xp
