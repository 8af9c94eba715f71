#include "load/load_loop.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <queue>
#include <random>

#include "xmpp/negotiation.h"
#include "xmpp/outcome.h"

namespace xp {

namespace {
std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}
}  // namespace

struct LoadLoop::Session {
  enum class St { kIdle, kConnecting, kFeatures, kProceed, kHandshake, kChallenge, kBind, kActive, kDead };
  int index = 0;
  int fd = -1;
  SSL* ssl = nullptr;
  XmlStream stream;
  std::unique_ptr<SaslExchange> sasl;
  std::uint64_t bytes_read = 0;
  St st = St::kIdle;
  bool tls_done = false, authed = false, want_write = false;
  std::string out;
  Clock::time_point login_start, next_send;

  ~Session() { Close(); }
  void Close() {
    if (ssl) SSL_free(ssl);
    ssl = nullptr;
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

LoadLoop::LoadLoop(const LoadPlan& plan, int first, int count) : plan_(plan), first_(first) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  for (int i = 0; i < count; ++i) {
    sessions_.push_back(std::make_unique<Session>());
    sessions_.back()->index = first + i;
  }
}

LoadLoop::~LoadLoop() {
  sessions_.clear();
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

std::string LoadLoop::Jid(int index) const {
  return plan_.user_prefix + std::to_string(index % plan_.users + 1) + "@" + plan_.domain + "/l" +
         std::to_string(index);
}

void LoadLoop::Watch(Session& s, bool want_write) {
  epoll_event ev{};
  ev.events = EPOLLIN | (want_write ? EPOLLOUT : 0u);
  ev.data.u32 = static_cast<std::uint32_t>(s.index - first_);
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, s.fd, &ev);
  s.want_write = want_write;
}

void LoadLoop::Fail(Session& s, Outcome outcome, const std::string& condition) {
  if (s.st == Session::St::kDead) return;
  // The report's keys stay what they were: the outcome's name, a stream error's condition.
  std::string key(OutcomeName(outcome));
  if (outcome == Outcome::kStreamError) key += "_" + condition;
  if (s.st == Session::St::kActive) {
    --active_;
    ++stats_.failures["dropped_" + key];
  } else {
    ++stats_.failures[key];
    ++finished_logins_;
  }
  s.st = Session::St::kDead;
  s.Close();
}

void LoadLoop::StartSession(int local) {
  Session& s = *sessions_[static_cast<std::size_t>(local)];
  const Endpoint& ep = plan_.endpoints[static_cast<std::size_t>(s.index) % plan_.endpoints.size()];
  s.login_start = Clock::now();
  s.fd = ::socket(ep.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s.fd < 0) {
    s.st = Session::St::kConnecting;
    Fail(s, Outcome::kConnectError);
    return;
  }
  int one = 1;
  setsockopt(s.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&ep.addr), ep.len) != 0 && errno != EINPROGRESS) {
    s.st = Session::St::kConnecting;
    Fail(s, errno == ECONNREFUSED ? Outcome::kConnectRefused : Outcome::kConnectError);
    return;
  }
  s.st = Session::St::kConnecting;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.u32 = static_cast<std::uint32_t>(local);
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, s.fd, &ev);
  s.want_write = true;
}

void LoadLoop::Queue(Session& s, const std::string& data) {
  s.out += data;
  Flush(s);
}

void LoadLoop::Flush(Session& s) {
  while (!s.out.empty() && s.fd >= 0) {
    int n;
    if (s.ssl) {
      n = SSL_write(s.ssl, s.out.data(), static_cast<int>(s.out.size()));
      if (n <= 0) {
        int err = SSL_get_error(s.ssl, n);
        if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) break;
        return Fail(s, Outcome::kClosed);
      }
    } else {
      n = static_cast<int>(::send(s.fd, s.out.data(), s.out.size(), MSG_NOSIGNAL));
      if (n < 0) {
        if (errno == EAGAIN) break;
        return Fail(s, Outcome::kClosed);
      }
    }
    s.out.erase(0, static_cast<std::size_t>(n));
  }
  if (s.fd >= 0 && s.out.empty() == s.want_write) Watch(s, !s.out.empty());
}

void LoadLoop::NewTls(Session& s) {
  s.ssl = SSL_new(plan_.tls_ctx->get());
  SSL_set_fd(s.ssl, s.fd);
  SSL_set_tlsext_host_name(s.ssl, plan_.domain.c_str());
  SSL_set1_host(s.ssl, plan_.domain.c_str());
  if (plan_.resume_session) {
    if (SSL_SESSION* session = plan_.resume_session()) {
      SSL_set_session(s.ssl, session);
      SSL_SESSION_free(session);
    }
  }
  s.st = Session::St::kHandshake;
}

void LoadLoop::Advance(Session& s) {
  // Only the TLS handshake advances on its own; everything else is driven by stanzas.
  ERR_clear_error();
  int rc = SSL_connect(s.ssl);
  if (rc == 1) {
    s.tls_done = true;
    if (SSL_session_reused(s.ssl)) ++stats_.tls_resumed;
    s.stream.Reset();
    Watch(s, false);
    return OpenStream(s);
  }
  int err = SSL_get_error(s.ssl, rc);
  if (err == SSL_ERROR_WANT_READ)
    Watch(s, false);
  else if (err == SSL_ERROR_WANT_WRITE)
    Watch(s, true);
  else
    Fail(s, SSL_get_verify_result(s.ssl) != X509_V_OK ? Outcome::kCertVerifyFailed : Outcome::kTlsError);
}

void LoadLoop::OnEvent(Session& s, std::uint32_t events) {
  if (s.st == Session::St::kConnecting) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return Fail(s, err == ECONNREFUSED ? Outcome::kConnectRefused : Outcome::kConnectError);
    if (!(events & EPOLLOUT)) return;
    if (plan_.direct_tls) {
      NewTls(s);
      return Advance(s);
    }
    Watch(s, false);
    return OpenStream(s);
  }
  if (s.st == Session::St::kHandshake) return Advance(s);
  if (events & EPOLLOUT) Flush(s);
  if (s.fd >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) ReadAll(s);
}

void LoadLoop::ReadAll(Session& s) {
  char buf[16384];
  for (int i = 0; i < 64 && s.fd >= 0; ++i) {
    int n;
    if (s.ssl) {
      n = SSL_read(s.ssl, buf, sizeof buf);
      if (n <= 0) {
        int err = SSL_get_error(s.ssl, n);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return;
        return Fail(s, Outcome::kClosed);
      }
    } else {
      n = static_cast<int>(::recv(s.fd, buf, sizeof buf, 0));
      if (n == 0) return Fail(s, Outcome::kClosed);
      if (n < 0) {
        if (errno == EAGAIN) return;
        return Fail(s, Outcome::kClosed);
      }
    }
    s.bytes_read += static_cast<std::uint64_t>(n);
    if (s.st != Session::St::kActive && s.bytes_read > plan_.login_bytes)
      return Fail(s, Outcome::kSessionBudgetExceeded);
    try {
      s.stream.Feed(std::string_view(buf, static_cast<std::size_t>(n)));
      // Handle() may reset the stream (after STARTTLS/SASL); the loop then finds it empty.
      while (s.fd >= 0) {
        auto e = s.stream.Next();
        if (!e) break;
        Handle(s, *e);
      }
      if (s.stream.closed()) return Fail(s, Outcome::kClosed);
    } catch (const ProbeError& e) {
      return Fail(s, e.outcome());
    }
  }
}

void LoadLoop::OpenStream(Session& s) {
  s.st = Session::St::kFeatures;
  Queue(s, StreamHeader(plan_.domain));
}

// The protocol steps are the library's (xmpp/negotiation.h), as XmppClient drives them; this
// loop only decides when they run. Their ProbeErrors end the session in ReadAll.
void LoadLoop::Handle(Session& s, const Element& e) {
  using St = Session::St;
  if (e.Is("error", kNsStreams)) {
    // Name the condition (policy-violation, connection-timeout, ...): it says whose limit hit.
    std::string condition = "undefined";
    for (const auto& c : e.children) {
      if (c.name != "text") condition = c.name;
    }
    return Fail(s, Outcome::kStreamError, condition);
  }
  switch (s.st) {
    case St::kFeatures:
      if (!e.Is("features", kNsStreams)) return;
      if (plan_.tls && !s.tls_done) {
        if (!e.Child("starttls", kNsTls)) return Fail(s, Outcome::kStarttlsMissing);
        s.st = St::kProceed;
        return Queue(s, std::string(kStartTlsRequest));
      }
      if (!s.authed) {
        SaslPlan sasl = ChooseSasl({plan_.mechanism}, e, s.ssl);
        s.sasl = std::make_unique<SaslExchange>(sasl, plan_.user_prefix + std::to_string(s.index % plan_.users + 1),
                                                plan_.password, plan_.min_scram_iterations);
        s.st = St::kChallenge;
        return Queue(s, s.sasl->Start());
      }
      s.st = St::kBind;
      return Queue(s, BindRequest("b", "l" + std::to_string(s.index)));
    case St::kProceed:
      if (e.ns != kNsTls) return;
      CheckProceed(e);
      // Whatever came with <proceed/> in cleartext is dropped, never parsed after TLS.
      s.stream.Reset();
      NewTls(s);
      return Advance(s);
    case St::kChallenge: {
      if (e.ns != kNsSasl) return;
      std::string reply = s.sasl->OnElement(e);
      if (!reply.empty()) Queue(s, reply);
      if (!s.sasl->done()) return;
      s.sasl.reset();
      s.authed = true;
      s.stream.Reset();
      return OpenStream(s);
    }
    case St::kBind: {
      if (e.name != "iq" || e.Attr("id") != "b") return;
      BoundJid(e);
      s.st = St::kActive;
      ++active_;
      ++finished_logins_;
      ++stats_.logins_ok;
      stats_.last_login = Clock::now();
      stats_.login_seconds.push_back(std::chrono::duration<double>(stats_.last_login - s.login_start).count());
      static thread_local std::mt19937 rng{std::random_device{}()};
      double period = plan_.message_rate > 0 ? 1.0 / plan_.message_rate : 1e9;
      s.next_send = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                                       std::uniform_real_distribution<double>(0, period)(rng)));
      return;
    }
    case St::kActive:
      if (e.name == "message") {
        const std::string body = e.ChildText("body");
        if (body.rfind("ld ", 0) != 0) return;
        std::int64_t sent_ns = std::strtoll(body.c_str() + 3, nullptr, 10);
        ++stats_.received;
        // Percentiles cover the steady phase only: during logins the server's CPU goes to
        // TLS and SCRAM, and that is a different question (login latency answers it).
        std::int64_t steady = control_->steady_from_ns.load();
        if (steady != 0 && sent_ns >= steady) {
          ++stats_.received_steady;
          stats_.delivery_seconds.push_back(static_cast<double>(NowNs() - sent_ns) / 1e9);
        }
      } else if (e.name == "iq" && e.Attr("type") == "get") {
        Queue(s, "<iq type='result' id='" + XmlEscape(e.Attr("id")) + "'/>");
      }
      return;
    default:
      return;
  }
}

void LoadLoop::SendMessages(Clock::time_point now) {
  if (plan_.message_rate <= 0) return;
  auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / plan_.message_rate));
  std::int64_t steady = control_->steady_from_ns.load();
  bool in_steady = steady != 0 && NowNs() >= steady;
  for (auto& sp : sessions_) {
    Session& s = *sp;
    if (s.st != Session::St::kActive || now < s.next_send) continue;
    int partner = (s.index ^ 1) < plan_.total_sessions ? (s.index ^ 1) : s.index;
    s.next_send += period;
    if (s.next_send < now) s.next_send = now + period;  // do not burst to catch up
    ++stats_.sent;
    if (in_steady) ++stats_.sent_steady;
    Queue(s,
          "<message type='chat' to='" + Jid(partner) + "'><body>ld " + std::to_string(NowNs()) + "</body></message>");
  }
}

void LoadLoop::Run(const LoadControl& control) {
  control_ = &control;
  const int count = static_cast<int>(sessions_.size());
  std::vector<epoll_event> events(256);
  auto next_scan = Clock::now();
  // Bounded by the coordinator's stop time (always set before the loops start).
  for (std::uint64_t iter = 0; iter < (1ull << 40); ++iter) {
    auto now = Clock::now();
    if (NowNs() >= control.stop_ns.load()) break;
    while (started_ < count && now >= plan_.start + std::chrono::duration_cast<Clock::duration>(
                                                        std::chrono::duration<double>(started_ / plan_.login_rate))) {
      StartSession(started_++);
    }
    if (!logins_done_ && now >= plan_.logins_deadline) {
      for (auto& s : sessions_) {
        if (s->st != Session::St::kActive && s->st != Session::St::kDead) Fail(*s, Outcome::kTimeout);
      }
    }
    logins_done_ = started_ == count && finished_logins_ >= count;
    if (now >= next_scan) {
      SendMessages(now);
      next_scan = now + std::chrono::milliseconds(5);
    }
    int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), 5);
    for (int i = 0; i < n; ++i) {
      Session& s = *sessions_[events[static_cast<std::size_t>(i)].data.u32];
      if (s.fd >= 0) OnEvent(s, events[static_cast<std::size_t>(i)].events);
    }
  }
  for (auto& s : sessions_) {
    if (s->st == Session::St::kActive) {
      s->out.clear();
      Queue(*s, "</stream:stream>");
    }
    s->Close();
  }
}

}  // namespace xp
