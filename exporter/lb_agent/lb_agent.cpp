#include "lb_agent/lb_agent.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "http_client.h"
#include "listen_address.h"
#include "log.h"
#include "metric_family.h"
#include "unique_fd.h"
#include "web_config.h"

namespace xw::exporter {
namespace {

using Clock = std::chrono::steady_clock;

UniqueFd Listen(const ListenAddress& a, int& port) {
  SocketAddress sa;
  try {
    sa = ToSocketAddress(a);
  } catch (const ConfigError& e) {
    throw ConfigError(std::string("--lb-agent.listen-address: ") + e.what());
  }
  UniqueFd fd(::socket(sa.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.ok()) throw ConfigError("--lb-agent.listen-address: socket: " + std::string(std::strerror(errno)));
  const int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd.get(), sa.get(), sa.length) != 0 || ::listen(fd.get(), 64) != 0) {
    throw ConfigError("--lb-agent.listen-address: cannot listen on " + a.ToString() + ": " + std::strerror(errno));
  }
  sockaddr_storage bound{};
  socklen_t blen = sizeof bound;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &blen);
  port = PortOf(bound);
  return fd;
}

// The reason follows "down #" and ends the line: no line breaks, no second '#'. (Tried with
// HAProxy 2.6: "down#reason" without the space is rejected as a whole and changes nothing.)
std::string Clean(std::string s) {
  for (char& c : s) {
    if (c == '#' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  if (s.size() > 120) s.resize(120);
  return s;
}

}  // namespace

LbAgent::LbAgent(LbAgentOptions options) : options_(std::move(options)) {
  listen_fd_ = Listen(options_.address, port_).release();
  checker_ = std::thread([this] { CheckLoop(); });
  server_ = std::thread([this] { ServeLoop(); });
  ListenAddress bound = options_.address;
  bound.port = port_;
  log::Info("lb agent listening", {{"address", bound.ToString()}, {"api", options_.api_url}});
}

LbAgent::~LbAgent() {
  stop_ = true;
  if (checker_.joinable()) checker_.join();
  if (server_.joinable()) server_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

void LbAgent::RunCheck() {
  // A write, not a read: ejabberd caches reads (last activity, rosters, passwords), and a
  // full or read-only database still answers reads while every message it should store fails.
  const auto started = Clock::now();
  const long now = static_cast<long>(std::time(nullptr));
  const std::string body = "{\"user\":\"" + options_.user + "\",\"host\":\"" + options_.domain +
                           "\",\"timestamp\":" + std::to_string(now) + ",\"status\":\"xmppwatch lb agent\"}";
  bool ok = false;
  std::string reason;
  try {
    const auto reply = HttpPostJson(options_.api_url + "/set_last", body, options_.timeout);
    // mod_http_api answers 200 with 0 for success; an SQL failure comes back as an error
    // status or a non-zero result.
    ok = reply.status == 200 && (reply.body == "0" || reply.body == "0\n");
    if (!ok) reason = "ejabberd set_last answered " + std::to_string(reply.status) + ": " + reply.body;
  } catch (const HttpError& e) {
    reason = "ejabberd api " + e.reason + ": " + e.what();
  }
  const double took = std::chrono::duration<double>(Clock::now() - started).count();
  std::lock_guard lock(mu_);
  if (ok != ready_) {
    if (ok) {
      log::Info("lb agent: node ready");
    } else {
      log::Warn("lb agent: node not ready", {{"reason", reason}});
    }
  }
  ready_ = ok;
  reason_ = Clean(reason);
  checked_at_ = Clock::now();
  last_duration_ = took;
  (ok ? checks_ok_ : checks_failed_) += 1;
}

void LbAgent::CheckLoop() {
  while (!stop_) {
    const auto next = Clock::now() + options_.interval;
    RunCheck();
    while (!stop_ && Clock::now() < next) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string LbAgent::Status() const {
  std::lock_guard lock(mu_);
  // A check stuck past its own deadline counts as failed: its answer would come too late.
  const auto stale_after = options_.interval * 2 + options_.timeout;
  if (checked_at_ == Clock::time_point{}) return "down #no check completed yet\n";
  if (Clock::now() - checked_at_ > stale_after) return "down #check has not completed for too long\n";
  return ready_ ? "up\n" : "down #" + reason_ + "\n";
}

void LbAgent::ServeLoop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    UniqueFd client(::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC));
    if (!client.ok()) {
      // EMFILE and friends: back off instead of spinning on a listener that stays readable.
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    const timeval tv{0, 200000};
    ::setsockopt(client.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    const std::string line = Status();
    {
      std::lock_guard lock(mu_);
      (line.rfind("up", 0) == 0 ? answers_up_ : answers_down_) += 1;
    }
    (void)!::send(client.get(), line.data(), line.size(), MSG_NOSIGNAL);
  }
}

std::vector<prometheus::MetricFamily> LbAgent::Collect() const {
  std::vector<prometheus::MetricFamily> out;
  const bool up = Status().rfind("up", 0) == 0;
  std::lock_guard lock(mu_);
  Emit(out, Gauge("xmppwatch_lb_agent_ready",
                  "1 when this node's last check (a write through ejabberd's SQL pool) succeeded: what the load "
                  "balancer's agent-check is told.")
                .Add(up ? 1 : 0));
  Emit(out,
       Gauge("xmppwatch_lb_agent_check_duration_seconds", "Duration of the last agent check.").Add(last_duration_));
  Emit(out, Counter("xmppwatch_lb_agent_checks_total", "Agent checks run, by result.")
                .Add(checks_ok_, {{"result", "ok"}})
                .Add(checks_failed_, {{"result", "error"}}));
  Emit(out, Counter("xmppwatch_lb_agent_answers_total", "Agent-check answers given to the load balancer, by state.")
                .Add(answers_up_, {{"state", "up"}})
                .Add(answers_down_, {{"state", "down"}}));
  return out;
}

}  // namespace xw::exporter
