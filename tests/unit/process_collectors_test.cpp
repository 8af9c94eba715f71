// processes and service read the real /proc through libproc2 (it has no root option), so
// these tests start known children and look for them.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "collect.h"
#include "text_file.h"
#include "web_config.h"

extern char** environ;

namespace xw::testing {
namespace {

// A child process that lives for the duration of a test.
class Child {
 public:
  explicit Child(std::vector<std::string> argv) {
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    if (posix_spawnp(&pid_, args[0], nullptr, nullptr, args.data(), environ) != 0) pid_ = -1;
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }

  // Waits (bounded) until the child has exec'd and gone to sleep: caught in between, it has
  // the parent's name or almost no resident pages yet. False if that never happens.
  bool WaitUntilAsleep() const {
    for (int i = 0; i < 200; ++i) {
      const auto stat = ReadFileIfExists("/proc/" + std::to_string(pid_) + "/stat");
      if (stat && stat->find("(sleep) S") != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

 private:
  pid_t pid_ = -1;
};

exporter::Paths Real() {
  return exporter::Paths{};
}

TEST(ProcessesCollector, CountsIncludeOurStoppedChild) {
  Child child({"sleep", "60"});
  ASSERT_GT(child.pid(), 0);
  kill(child.pid(), SIGSTOP);
  // Wait (bounded) until the kernel shows it stopped.
  for (int i = 0; i < 200; ++i) {
    const auto f = Collect("processes", Real());
    if (Value(f, "node_processes_state", {{"state", "T"}}).value_or(0) >= 1) {
      EXPECT_GE(*Value(f, "node_processes_pids"), 2);
      EXPECT_GE(*Value(f, "node_processes_threads"), *Value(f, "node_processes_pids"));
      EXPECT_GT(*Value(f, "node_processes_max_processes"), 0);
      EXPECT_GE(Value(f, "node_processes_threads_state", {{"thread_state", "T"}}).value_or(0), 1);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL() << "stopped child never counted in state T";
}

TEST(ServiceCollector, FindsANamedProcessByCommAndCmdline) {
  Child child({"sleep", "61.5"});
  ASSERT_GT(child.pid(), 0);
  ASSERT_TRUE(child.WaitUntilAsleep());
  const auto f =
      Collect("service", Real(),
              {{"collector.service.names", "napper=sleep:61.5,other=sleep:no-such-arg,absent=no-such-prog"}});
  EXPECT_EQ(*Value(f, "xmppwatch_service_up", {{"service", "napper"}}), 1);
  EXPECT_EQ(*Value(f, "xmppwatch_service_processes", {{"service", "napper"}}), 1);
  EXPECT_GE(*Value(f, "xmppwatch_service_threads", {{"service", "napper"}}), 1);
  EXPECT_GT(*Value(f, "xmppwatch_service_resident_memory_bytes", {{"service", "napper"}}), 0);
  EXPECT_GE(*Value(f, "xmppwatch_service_open_fds", {{"service", "napper"}}), 0);
  EXPECT_GT(*Value(f, "xmppwatch_service_start_time_seconds", {{"service", "napper"}}), 1.7e9);
  EXPECT_TRUE(Value(f, "xmppwatch_service_cpu_seconds_total", {{"mode", "user"}, {"service", "napper"}}));
  EXPECT_EQ(*Value(f, "xmppwatch_service_up", {{"service", "other"}}), 0);
  EXPECT_EQ(*Value(f, "xmppwatch_service_up", {{"service", "absent"}}), 0);
  EXPECT_FALSE(Value(f, "xmppwatch_service_threads", {{"service", "absent"}}));
}

TEST(ServiceCollector, RejectsNamesLongerThanComm) {
  EXPECT_THROW(MakeCollector("service", Real(), {{"collector.service.names", "x=a-name-longer-than-15"}}), ConfigError);
}

}  // namespace
}  // namespace xw::testing
