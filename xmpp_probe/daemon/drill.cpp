// `xmpp_probe drill`: a failover rehearsal. Keeps the failover sessions running, kills the
// primary node through the stack's launcher, waits for the sessions to come back, restarts
// the node, and prints what users would have felt.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <sstream>
#include <thread>

#include "daemon/serve.h"
#include "probe/failover.h"
#include "probe/modules.h"

namespace xp {

namespace {

// Runs argv without a shell, its stdout sent to our stderr so the report stays clean.
// Bounded: killed after `timeout_s`. Returns the exit code, or -1.
int RunCommand(const std::vector<std::string>& argv, double timeout_s) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    dup2(2, 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  auto end = Clock::now() + std::chrono::duration<double>(timeout_s);
  int status = 0;
  while (Clock::now() < end) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

std::string Fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

void Sleep(double seconds) { std::this_thread::sleep_for(std::chrono::duration<double>(seconds)); }

}  // namespace

int Drill(const DrillOptions& opts) {
  ProbeConfig cfg = LoadProbeConfig(opts.common);
  ModuleConfig module = FindModule(cfg, opts.module);
  if (module.prober != "failover") throw std::runtime_error("module '" + opts.module + "' is not a failover module");
  FailoverRunner runner(module, opts.target);
  runner.Start();
  auto start = Clock::now();
  std::cerr << "drill: warming up " << opts.warmup << " s\n";
  // Sessions must be up before the kill, or the outage would include our own login.
  for (int i = 0; i < 300; ++i) {
    auto s = runner.Snapshot();
    if (s.sender_up && s.receiver_up && SecondsSince(start) >= opts.warmup) break;
    Sleep(0.1);
  }
  FailoverStats before = runner.Snapshot();
  if (!before.sender_up || !before.receiver_up) {
    runner.Stop(std::chrono::milliseconds(0));
    std::cout << "drill: ABORTED - failover sessions did not come up: " << before.last_error << "\n";
    return 3;
  }
  std::size_t outages_before = before.outages.size();
  std::cerr << "drill: killing " << opts.victim << "\n";
  auto killed_at = Clock::now();
  int kill_rc = RunCommand({opts.stack, "kill", opts.victim}, 30);
  bool recovered = false;
  bool restarted = false;
  int start_rc = -1;
  double restart_s = 0;
  auto restart = [&] {
    std::cerr << "drill: restarting " << opts.victim << "\n";
    auto restart_at = Clock::now();
    start_rc = RunCommand({opts.stack, "start", opts.victim}, 120);
    restart_s = SecondsSince(restart_at);
    restarted = true;
  };
  for (int i = 0; i < 100000 && SecondsSince(killed_at) < opts.max_outage; ++i) {
    auto s = runner.Snapshot();
    // Both sessions noticed and came back (each logs one outage), or nothing broke at all.
    if (s.sender_up && s.receiver_up && s.outages.size() >= outages_before + 2) {
      recovered = true;
      break;
    }
    // A victim the service cannot route around (the load balancer itself) comes back only
    // when restarted: do that on schedule and keep measuring.
    if (!restarted && opts.restart_after > 0 && SecondsSince(killed_at) >= opts.restart_after) restart();
    Sleep(0.05);
  }
  if (!recovered) {
    auto s = runner.Snapshot();
    recovered = s.sender_up && s.receiver_up;  // up again, whether or not the break was seen
  }
  double recovered_after = SecondsSince(killed_at);
  Sleep(opts.settle);
  if (!restarted) restart();
  Sleep(opts.settle);
  runner.Stop(std::chrono::seconds(5));
  FailoverStats s = runner.Snapshot();

  std::vector<Outage> outages(s.outages.begin() + static_cast<long>(std::min(outages_before, s.outages.size())),
                              s.outages.end());
  double worst = 0, worst_detect = 0;
  for (const auto& o : outages) {
    worst = std::max(worst, o.duration);
    worst_detect = std::max(worst_detect, o.detection);
  }
  bool pass = kill_rc == 0 && recovered && s.lost == 0;
  if (opts.json) {
    std::cout << "{\"kill_rc\":" << kill_rc << ",\"start_rc\":" << start_rc << ",\"recovered\":" << (recovered ? "true" : "false")
              << ",\"outage_seconds\":" << Fmt(worst) << ",\"detection_seconds\":" << Fmt(worst_detect)
              << ",\"outages\":" << outages.size() << ",\"sent\":" << s.sent << ",\"acked\":" << s.acked
              << ",\"received\":" << s.received << ",\"receipts\":" << s.receipts << ",\"resent\":" << s.resent << ",\"lost\":" << s.lost << ",\"duplicated\":" << s.duplicated
              << ",\"delayed\":" << s.delayed << ",\"unconfirmed\":" << s.unconfirmed
              << ",\"reconnect_attempts\":" << s.reconnect_attempts << ",\"resumes\":" << s.resumes
              << ",\"fresh_logins\":" << s.fresh_logins << ",\"pass\":" << (pass ? "true" : "false") << "}\n";
  } else {
    std::cout << "failover drill: killed " << opts.victim << " with '" << opts.stack << " kill' (exit " << kill_rc << ")\n";
    for (const auto& o : outages) {
      std::cout << "  " << o.session << (o.session == "sender" ? "  " : "") << " outage " << Fmt(o.duration)
                << " s, detected after " << Fmt(o.detection) << " s, " << o.reconnect_attempts << " reconnect attempt(s), "
                << (o.resumed ? "stream resumed" : "fresh login") << ", cause " << o.cause << "\n";
    }
    if (outages.empty()) std::cout << "  no session saw an outage\n";
    std::cout << "  messages: sent " << s.sent << ", acknowledged " << s.acked << ", received " << s.received << ", receipts " << s.receipts << ", resent " << s.resent << ", lost "
              << s.lost << ", duplicated " << s.duplicated << ", delayed " << s.delayed << ", unconfirmed "
              << s.unconfirmed << "\n";
    std::cout << "  " << (recovered ? "service back" : "service NOT back")
              << " (sessions back " << Fmt(recovered_after) << " s after the kill command began); restarted "
              << opts.victim << " in " << Fmt(restart_s) << " s (exit " << start_rc << ")\n";
    std::cout << "verdict: " << (pass ? "PASS" : "FAIL") << " - worst outage " << Fmt(worst) << " s, "
              << s.lost << " acknowledged message(s) lost\n";
  }
  return pass ? 0 : 2;
}

}  // namespace xp
