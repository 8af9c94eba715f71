// Daemons started by a test and stopped by pid, with their output in a log file.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace xw::testing {

class Subprocess {
 public:
  // Starts argv[0] (PATH lookup) with stdout+stderr to log_path. Throws on failure.
  Subprocess(std::vector<std::string> argv, std::string log_path);
  ~Subprocess();  // SIGTERM, then SIGKILL after 5 s
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  // Sends SIGTERM and waits up to `limit`; returns the exit status (-1 if it had to be killed).
  int Stop(std::chrono::milliseconds limit = std::chrono::seconds(5));
  bool Running();
  std::string Log() const;

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  std::string log_path_;
};

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};
// Runs a command to completion (bounded by `limit`, then killed) and captures its output.
RunResult RunCommand(const std::vector<std::string>& argv, std::chrono::seconds limit = std::chrono::seconds(60),
                     const std::string& stdin_text = "");

// A free TCP port on 127.0.0.1 (bound and released: good enough for tests run serially).
int FreePort();

// Polls http://host:port/path until it answers 200 or `limit` passes.
bool WaitForHttp(const std::string& host, int port, const std::string& path,
                 std::chrono::milliseconds limit = std::chrono::seconds(20));

std::string HttpGet(const std::string& host, int port, const std::string& path);

// A fresh directory under /tmp removed at destruction.
struct TempDir {
  std::string path;
  TempDir();
  ~TempDir();
};

}  // namespace xw::testing
