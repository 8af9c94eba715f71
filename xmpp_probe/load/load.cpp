// Load mode coordinator: splits sessions over one event loop per core, paces logins, decides
// when the steady phase starts and ends, and reports rates, latency percentiles and CPU.
#include "load/load.h"

#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <sys/resource.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>

#include "load/load_loop.h"
#include "probe/config.h"
#include "xmpp/outcome.h"
#include "xmpp/scram.h"

namespace xp {

namespace {

// One resumable TLS session shared by all loops (--tls-resume). Stateless TLS 1.3 tickets may
// be presented many times, so every new connection skips the server's certificate signature.
std::mutex g_session_mu;
SSL_SESSION* g_session = nullptr;

int KeepSession(SSL*, SSL_SESSION* session) {
  std::lock_guard lock(g_session_mu);
  if (g_session) SSL_SESSION_free(g_session);
  g_session = session;
  return 1;  // we keep the reference
}

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

bool IsLoopback(const Endpoint& ep) {
  if (ep.addr.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&ep.addr);
    return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
  }
  auto* a6 = reinterpret_cast<const sockaddr_in6*>(&ep.addr);
  return IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::size_t k = std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

}  // namespace

void AddLoadFlags(CLI::App& app, LoadOptions& o) {
  app.add_option("--target", o.target, "host:port[,host:port...], loopback only")->capture_default_str();
  app.add_option("--user-prefix", o.user_prefix, "Accounts are PREFIX1..PREFIXN")->capture_default_str();
  app.add_option("--password-file", o.password_file, "Password shared by the load accounts")->required();
  app.add_option("--users", o.users, "Number of accounts (0: one per session)")->capture_default_str();
  app.add_option("--sessions", o.sessions, "Concurrent sessions (1..50000)")
      ->capture_default_str()
      ->check(CLI::Range(1, 50000));
  app.add_option("--login-rate", o.login_rate, "New sessions per second")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 100000.0));
  app.add_option("--message-rate", o.message_rate, "Messages per second per session")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1000.0));
  app.add_option("--duration", o.duration, "Seconds of messaging once all sessions are in (max 3600)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--threads", o.threads, "Event loops (0: one per core)")->capture_default_str();
  app.add_option("--tls", o.tls, "starttls, direct or plain")->capture_default_str();
  app.add_option("--ca-file", o.ca_file, "CA for the server certificate (default: the stack's)");
  app.add_flag("--insecure-skip-verify", o.insecure, "Do not verify the server certificate");
  app.add_flag("--tls-resume", o.tls_resume, "Resume one TLS session for every connection, as reconnecting apps do");
  app.add_option("--mechanism", o.mechanism, "SCRAM-SHA-256 or SCRAM-SHA-1")->capture_default_str();
  app.add_flag("--json", o.json, "Print the report as one JSON object");
}

int RunLoad(const LoadOptions& o) {
  LoadPlan plan;
  // Comma-separated targets: session i goes to target i % n (spreads load over the nodes).
  for (std::size_t pos = 0; pos <= o.target.size();) {
    std::size_t comma = std::min(o.target.find(',', pos), o.target.size());
    auto [host, port] = SplitHostPort(o.target.substr(pos, comma - pos), 5222);
    // Bounded like the probe's own lookups: a resolver that never answers ends the run.
    Endpoint ep = ResolveBefore(host, port, Clock::now() + std::chrono::seconds(10)).front();
    if (!IsLoopback(ep)) throw std::runtime_error("load mode only targets loopback addresses, not " + ep.text);
    plan.endpoints.push_back(ep);
    pos = comma + 1;
  }
  plan.domain = o.common.domain;
  plan.user_prefix = o.user_prefix;
  Account acct;
  acct.user = o.user_prefix;
  acct.password_file = o.password_file;
  plan.password = ReadPassword(acct);
  plan.users = o.users > 0 ? o.users : o.sessions;
  plan.tls = o.tls == "starttls";
  plan.direct_tls = o.tls == "direct";
  if (plan.tls || plan.direct_tls) {
    TlsOptions t;
    t.ca_file = o.ca_file.empty() ? ResolveRunDir(o.common) + "/tls/" + o.common.domain + ".crt" : o.ca_file;
    t.insecure = o.insecure;
    plan.tls_ctx = std::make_shared<TlsContext>(t);
    // Idle sessions need no 34 KiB of TLS buffers each: at 10,000 sessions that is 340 MiB.
    SSL_CTX_set_mode(plan.tls_ctx->get(), SSL_MODE_RELEASE_BUFFERS);
    if (o.tls_resume) {
      SSL_CTX_set_session_cache_mode(plan.tls_ctx->get(), SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
      SSL_CTX_sess_set_new_cb(plan.tls_ctx->get(), KeepSession);
      plan.resume_session = [] {
        std::lock_guard lock(g_session_mu);
        return g_session ? (SSL_SESSION_up_ref(g_session), g_session) : nullptr;
      };
    }
  }
  plan.mechanism = o.mechanism;
  plan.message_rate = o.message_rate;
  plan.total_sessions = o.sessions;
  ScramClient::EnableSaltedPasswordCache(true);

  // Each session needs a descriptor; ask for the hard limit rather than fail at 1024.
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);

  int threads = o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = std::min(threads, o.sessions);
  plan.login_rate = o.login_rate / threads;
  double login_window = o.sessions / o.login_rate;
  plan.start = Clock::now();
  plan.logins_deadline =
      plan.start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(login_window + 30));
  LoadControl control;
  // Hard stop even if the steady phase never begins: logins deadline plus the duration.
  control.stop_ns = NowNs() + static_cast<std::int64_t>((login_window + 30 + o.duration) * 1e9);

  std::vector<std::unique_ptr<LoadLoop>> loops;
  int per = (o.sessions + threads - 1) / threads;
  per += per % 2;  // keep message partners (i, i^1) in the same loop
  for (int first = 0; first < o.sessions; first += per)
    loops.push_back(std::make_unique<LoadLoop>(plan, first, std::min(per, o.sessions - first)));
  double cpu0 = CpuSeconds();
  std::vector<std::thread> workers;
  for (auto& l : loops) workers.emplace_back([&l, &control] { l->Run(control); });

  double cpu_logins = 0;
  double logins_elapsed = 0;
  for (int i = 0; i < 10000000 && NowNs() < control.stop_ns.load(); ++i) {
    bool done = std::all_of(loops.begin(), loops.end(), [](const auto& l) { return l->logins_done(); });
    if (done && control.steady_from_ns == 0) {
      logins_elapsed = std::chrono::duration<double>(Clock::now() - plan.start).count();
      cpu_logins = CpuSeconds() - cpu0;
      control.steady_from_ns = NowNs();
      control.stop_ns = NowNs() + static_cast<std::int64_t>(o.duration * 1e9);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto& w : workers) w.join();
  double cpu_total = CpuSeconds() - cpu0;

  LoadStats all;
  for (auto& l : loops) {
    const LoadStats& s = l->stats();
    all.logins_ok += s.logins_ok;
    for (const auto& [k, v] : s.failures) all.failures[k] += v;
    all.login_seconds.insert(all.login_seconds.end(), s.login_seconds.begin(), s.login_seconds.end());
    all.delivery_seconds.insert(all.delivery_seconds.end(), s.delivery_seconds.begin(), s.delivery_seconds.end());
    all.sent += s.sent;
    all.received += s.received;
    all.sent_steady += s.sent_steady;
    all.received_steady += s.received_steady;
    all.tls_resumed += s.tls_resumed;
  }
  double steady_s = control.steady_from_ns ? o.duration : 0;
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  char buf[1024];
  double lp50 = Percentile(all.login_seconds, 0.5), lp99 = Percentile(all.login_seconds, 0.99);
  double dp50 = Percentile(all.delivery_seconds, 0.5), dp90 = Percentile(all.delivery_seconds, 0.9),
         dp99 = Percentile(all.delivery_seconds, 0.99);
  double login_rate = logins_elapsed > 0 ? static_cast<double>(all.logins_ok) / logins_elapsed : 0;
  double msg_rate = steady_s > 0 ? static_cast<double>(all.received_steady) / steady_s : 0;
  double cpu_per_login_ms = all.logins_ok ? cpu_logins * 1000 / static_cast<double>(all.logins_ok) : 0;
  double cpu_steady = cpu_total - cpu_logins;
  std::string failures;
  for (const auto& [k, v] : all.failures) failures += (failures.empty() ? "" : ",") + k + "=" + std::to_string(v);
  if (o.json) {
    std::snprintf(
        buf, sizeof buf,
        "{\"sessions\":%d,\"threads\":%d,\"logged_in\":%llu,\"failed\":\"%s\",\"login_rate\":%.1f,"
        "\"login_p50_ms\":%.2f,\"login_p99_ms\":%.2f,\"sent\":%llu,\"received\":%llu,\"msgs_per_s\":%.1f,"
        "\"delivery_p50_ms\":%.2f,\"delivery_p90_ms\":%.2f,\"delivery_p99_ms\":%.2f,\"cpu_per_login_ms\":%.3f,"
        "\"cpu_steady_s\":%.2f,\"cpu_total_s\":%.2f,\"max_rss_mib\":%.1f,\"tls_resumed\":%llu}\n",
        o.sessions, threads, static_cast<unsigned long long>(all.logins_ok), failures.c_str(), login_rate, lp50 * 1e3,
        lp99 * 1e3, static_cast<unsigned long long>(all.sent), static_cast<unsigned long long>(all.received), msg_rate,
        dp50 * 1e3, dp90 * 1e3, dp99 * 1e3, cpu_per_login_ms, cpu_steady, cpu_total, ru.ru_maxrss / 1024.0,
        static_cast<unsigned long long>(all.tls_resumed));
  } else {
    std::snprintf(buf, sizeof buf,
                  "load: %d sessions on %d loops: %llu logged in%s%s\n"
                  "  logins: %.1f/s, latency p50 %.1f ms p99 %.1f ms, CPU %.3f ms per login\n"
                  "  messages: %llu sent, %llu received, %.1f msg/s delivered in the steady %.0f s\n"
                  "  delivery latency: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms\n"
                  "  CPU: %.2f s total, %.2f s in the steady phase; max RSS %.1f MiB; TLS sessions resumed: %llu\n",
                  o.sessions, threads, static_cast<unsigned long long>(all.logins_ok),
                  failures.empty() ? "" : ", failed: ", failures.c_str(), login_rate, lp50 * 1e3, lp99 * 1e3,
                  cpu_per_login_ms, static_cast<unsigned long long>(all.sent),
                  static_cast<unsigned long long>(all.received), msg_rate, steady_s, dp50 * 1e3, dp90 * 1e3, dp99 * 1e3,
                  cpu_total, cpu_steady, ru.ru_maxrss / 1024.0, static_cast<unsigned long long>(all.tls_resumed));
  }
  std::cout << buf;
  return all.logins_ok == static_cast<std::uint64_t>(o.sessions) ? 0 : 1;
}

}  // namespace xp
