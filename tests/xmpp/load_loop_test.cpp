// The load generator's event loop against the scripted fake server: it negotiates with the
// library's steps (xmpp/negotiation.h) and reports the library's outcome names, the same
// ones the probe's client gives for the same server.
#include "load/load_loop.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "fake_server.h"
#include "login_script.h"

namespace xp {
namespace {

using namespace std::chrono_literals;
using test::FakeConn;
using test::FakeServer;
using test::LoginScript;

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// Runs `sessions` logins into user "probe1" and returns the loop's statistics once every
// login has ended one way or the other (bounded by the loop's own login deadline).
LoadStats RunLogins(const FakeServer& server, int sessions, const std::string& password = "secret") {
  LoadPlan plan;
  auto [host, port] = SplitHostPort(server.target(), 5222);
  plan.endpoints = Resolve(host, port);
  plan.domain = "good.example";
  plan.user_prefix = "probe";
  plan.password = password;
  plan.users = 1;
  plan.tls = false;
  plan.mechanism = "SCRAM-SHA-256";
  plan.message_rate = 0;
  plan.total_sessions = sessions;
  plan.login_rate = 1000;
  plan.start = Clock::now();
  plan.logins_deadline = plan.start + 20s;
  LoadControl control;
  control.stop_ns = NowNs() + std::chrono::nanoseconds(30s).count();
  LoadLoop loop(plan, 0, sessions);
  std::thread runner([&] { loop.Run(control); });
  for (int i = 0; i < 3000 && !loop.logins_done(); ++i) std::this_thread::sleep_for(10ms);
  control.stop_ns = NowNs();
  runner.join();
  return loop.stats();
}

TEST(LoadLoop, LogsInWithTheLibrarysNegotiation) {
  FakeServer server(LoginScript{});
  LoadStats stats = RunLogins(server, 2);
  EXPECT_EQ(stats.logins_ok, 2u);
  EXPECT_TRUE(stats.failures.empty());
}

TEST(LoadLoop, FailuresCarryLibraryOutcomeNames) {
  LoginScript weak;
  weak.iterations = 1;
  FakeServer weak_server(weak);
  EXPECT_EQ(RunLogins(weak_server, 2).failures,
            (std::map<std::string, std::uint64_t>{{"scram_iterations_too_low", 2}}));

  FakeServer server(LoginScript{});
  EXPECT_EQ(RunLogins(server, 1, "wrong").failures, (std::map<std::string, std::uint64_t>{{"auth_failed", 1}}));
}

TEST(LoadLoop, FloodBeforeLoginEndsWithTheSessionBudget) {
  FakeServer server([](FakeConn& c) {
    if (c.ReadUntil(test::kClientHeaderEnd).empty()) return;
    c.Write(test::kHeader);
    std::string batch;
    for (int i = 0; i < 512; ++i) batch += "<message xmlns='jabber:client'><body>flood</body></message>";
    for (int i = 0; i < 2048 && c.Write(batch); ++i) {
    }
  });
  EXPECT_EQ(RunLogins(server, 1).failures, (std::map<std::string, std::uint64_t>{{"session_budget_exceeded", 1}}));
}

}  // namespace
}  // namespace xp
