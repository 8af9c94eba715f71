// `xmpp_probe drill`: a failover rehearsal, and the measuring half of the fault matrix
// (server/stack validate). Keeps the failover sessions running, injects a fault through the
// stack's launcher (by default: kill the primary node), waits for the sessions to come back,
// undoes the fault, and prints what users would have felt. The matrix adds what only the
// stack can see (load balancer detection, alerts) around this one measurement, so drill and
// matrix share the sessions, the message accounting and the outage timing.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
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

std::vector<std::string> Words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string Fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

// Lines arriving on standard input, read without blocking (EOF is ignored).
class StdinLines {
 public:
  bool Saw(const std::string& line) {
    pollfd p{0, POLLIN, 0};
    while (::poll(&p, 1, 0) == 1 && (p.revents & POLLIN)) {
      char buf[256];
      const ssize_t n = ::read(0, buf, sizeof buf);
      if (n <= 0) break;
      pending_.append(buf, static_cast<std::size_t>(n));
      if (pending_.size() > 4096) pending_.erase(0, pending_.size() - 64);
    }
    return pending_.find(line + "\n") != std::string::npos;
  }

 private:
  std::string pending_;
};

void Sleep(double seconds) {
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

// Wall-clock seconds: the matrix lines the drill's moments up with HAProxy's and
// Alertmanager's, which only know wall-clock time.
double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(std::lround(q * static_cast<double>(v.size() - 1)));
  return v[std::min(i, v.size() - 1)];
}

struct Timeline {
  double fault_unix = 0, restore_unix = 0, recovered_unix = 0;
  double recovered_after = 0, restore_s = 0;
  int fault_rc = 0, restore_rc = -1;
  bool recovered = false, restored = false;
};

void PrintText(const DrillOptions& opts, const std::string& fault, const std::vector<Outage>& outages,
               const FailoverStats& s, const Timeline& t, bool pass, double worst) {
  std::cout << "failover drill: " << fault << " with '" << opts.stack << "' (exit " << t.fault_rc << ")\n";
  for (const auto& o : outages) {
    std::cout << "  " << o.session << (o.session == "sender" ? "  " : "") << " outage " << Fmt(o.duration)
              << " s, detected after " << Fmt(o.detection) << " s, " << o.reconnect_attempts
              << " reconnect attempt(s), " << (o.resumed ? "stream resumed" : "fresh login") << ", cause " << o.cause
              << "\n";
  }
  if (outages.empty()) std::cout << "  no session saw an outage\n";
  std::cout << "  messages: sent " << s.sent << ", acknowledged " << s.acked << ", received " << s.received
            << ", receipts " << s.receipts << ", resent " << s.resent << ", lost " << s.lost << ", duplicated "
            << s.duplicated << ", delayed " << s.delayed << ", unconfirmed " << s.unconfirmed << "\n";
  std::cout << "  delivery p50 " << Fmt(Quantile(s.delays, 0.5)) << " s, p99 " << Fmt(Quantile(s.delays, 0.99))
            << " s over the last " << s.delays.size() << " messages, slowest " << Fmt(s.max_delay) << " s\n";
  std::cout << "  " << (t.recovered ? "service back" : "service NOT back") << " (sessions back "
            << Fmt(t.recovered_after) << " s after the fault began); undone in " << Fmt(t.restore_s) << " s (exit "
            << t.restore_rc << ")\n";
  std::cout << "verdict: " << (pass ? "PASS" : "FAIL") << " - worst outage " << Fmt(worst) << " s, " << s.lost
            << " acknowledged message(s) lost\n";
}

nlohmann::json ToJson(const std::vector<Outage>& outages, const FailoverStats& s, const Timeline& t, bool pass,
                      double worst, double worst_detect) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& o : outages) {
    list.push_back({{"session", o.session},
                    {"outage_seconds", o.duration},
                    {"detection_seconds", o.detection},
                    {"reconnect_attempts", o.reconnect_attempts},
                    {"resumed", o.resumed},
                    {"cause", o.cause}});
  }
  return {{"kill_rc", t.fault_rc},
          {"fault_rc", t.fault_rc},
          {"start_rc", t.restore_rc},
          {"restore_rc", t.restore_rc},
          {"recovered", t.recovered},
          {"restored", t.restored},
          {"fault_at", t.fault_unix},
          {"restore_at", t.restore_unix},
          {"recovered_at", t.recovered_unix},
          {"outage_seconds", worst},
          {"detection_seconds", worst_detect},
          {"outages", outages.size()},
          {"outage_list", list},
          {"sent", s.sent},
          {"acked", s.acked},
          {"received", s.received},
          {"receipts", s.receipts},
          {"resent", s.resent},
          {"lost", s.lost},
          {"duplicated", s.duplicated},
          {"delayed", s.delayed},
          {"unconfirmed", s.unconfirmed},
          {"reconnect_attempts", s.reconnect_attempts},
          {"resumes", s.resumes},
          {"fresh_logins", s.fresh_logins},
          {"delivery_samples", s.delays.size()},
          {"delivery_p50_seconds", Quantile(s.delays, 0.5)},
          {"delivery_p99_seconds", Quantile(s.delays, 0.99)},
          {"delivery_max_seconds", s.max_delay},
          {"pass", pass}};
}

}  // namespace

int Drill(const DrillOptions& opts) {
  ProbeConfig cfg = LoadProbeConfig(opts.common);
  ModuleConfig module = FindModule(cfg, opts.module);
  if (module.prober != "failover") throw std::runtime_error("module '" + opts.module + "' is not a failover module");
  const bool baseline = opts.victim == "none" && opts.fault.empty();
  std::vector<std::string> fault_cmd{opts.stack};
  std::vector<std::string> restore_cmd{opts.stack};
  for (const auto& w :
       opts.fault.empty() ? std::vector<std::string>{"kill", opts.victim, opts.signal} : Words(opts.fault)) {
    fault_cmd.push_back(w);
  }
  for (const auto& w : opts.restore.empty() ? std::vector<std::string>{"start", opts.victim} : Words(opts.restore)) {
    restore_cmd.push_back(w);
  }
  std::string fault_text;
  for (std::size_t i = 1; i < fault_cmd.size(); ++i) fault_text += (i > 1 ? " " : "") + fault_cmd[i];
  if (baseline) fault_text = "no fault";

  // Within a drill a message is lost only if it never arrives before the drill ends: after a
  // partition the cluster link's TCP retransmission has backed off and held messages come
  // through up to twice the partition's length later (measured), which is late, not lost.
  const double drill_s =
      opts.warmup + std::max(opts.max_outage, opts.restore_after) + opts.after_restore + 2 * opts.settle;
  module.failover.lost_after = std::max<std::chrono::milliseconds>(
      module.failover.lost_after, std::chrono::milliseconds(static_cast<long>((drill_s + 60) * 1000)));
  FailoverRunner runner(module, opts.target);
  runner.Start();
  auto start = Clock::now();
  std::cerr << "drill: warming up " << opts.warmup << " s\n";
  // Sessions must be up before the fault, or the outage would include our own login.
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
  const std::size_t outages_before = before.outages.size();
  Timeline t;
  std::cerr << "drill: " << fault_text << "\n";
  const auto fault_at = Clock::now();
  t.fault_unix = UnixNow();
  if (!baseline) t.fault_rc = RunCommand(fault_cmd, 60);
  // The matrix lines this up with HAProxy's and Alertmanager's clocks while the drill runs.
  std::cerr << "drill: fault injected at " << Fmt(t.fault_unix) << " (exit " << t.fault_rc << ")\n";
  auto restore = [&] {
    t.restored = true;
    if (baseline) return;
    std::cerr << "drill: undoing the fault\n";
    auto at = Clock::now();
    t.restore_unix = UnixNow();
    t.restore_rc = RunCommand(restore_cmd, 180);
    t.restore_s = SecondsSince(at);
  };
  // Until the sessions are back (both broke and came back, or nothing broke for the whole
  // hold), undoing the fault on schedule when a hold is asked for.
  StdinLines stdin_lines;
  auto last_down = Clock::now();
  bool was_down = false;
  for (int i = 0; i < 1000000 && SecondsSince(fault_at) < opts.max_outage; ++i) {
    auto s = runner.Snapshot();
    const bool up = s.sender_up && s.receiver_up;
    if (!up) {
      last_down = Clock::now();
      was_down = true;
    } else if (!t.recovered && (was_down || s.outages.size() > outages_before)) {
      t.recovered = true;
      t.recovered_after = SecondsSince(fault_at);
      t.recovered_unix = UnixNow();
    }
    if (!t.restored && ((opts.restore_after > 0 && SecondsSince(fault_at) >= opts.restore_after) ||
                        (opts.restore_on_stdin && stdin_lines.Saw("restore")))) {
      restore();
    }
    const bool both_broke = s.outages.size() >= outages_before + 2;
    const bool quiet = up && SecondsSince(last_down) >= 2.0;
    if (opts.restore_after > 0 || opts.restore_on_stdin || baseline) {
      if (t.restored && up && (!was_down || t.recovered)) break;
    } else if (up && (both_broke || (t.recovered && quiet))) {
      break;
    }
    Sleep(0.05);
  }
  if (!t.recovered) {
    auto s = runner.Snapshot();
    // Nothing broke at all (a fault the service absorbed), or it never came back.
    t.recovered = s.sender_up && s.receiver_up;
    if (t.recovered && !was_down) {
      t.recovered_unix = t.fault_unix;
    } else {
      t.recovered_after = SecondsSince(fault_at);
    }
  }
  if (!t.restored) {
    Sleep(opts.settle);
    restore();
  }
  Sleep(std::max(opts.settle, opts.after_restore));
  runner.Stop(std::chrono::seconds(5));
  FailoverStats s = runner.Snapshot();

  std::vector<Outage> outages(s.outages.begin() + static_cast<long>(std::min(outages_before, s.outages.size())),
                              s.outages.end());
  double worst = 0, worst_detect = 0;
  for (const auto& o : outages) {
    worst = std::max(worst, o.duration);
    worst_detect = std::max(worst_detect, o.detection);
  }
  const bool pass = t.fault_rc == 0 && (baseline || t.restore_rc == 0) && t.recovered && s.lost == 0;
  if (opts.json) {
    std::cout << ToJson(outages, s, t, pass, worst, worst_detect).dump() << "\n";
  } else {
    PrintText(opts, fault_text, outages, s, t, pass, worst);
  }
  return pass ? 0 : 2;
}

}  // namespace xp
