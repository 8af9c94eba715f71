#include "subprocess.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace xw::testing {
namespace {

pid_t SpawnWithOutput(const std::vector<std::string>& argv, int out_fd, int in_fd) {
  std::vector<std::string> copy = argv;
  std::vector<char*> args;
  for (auto& a : copy) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (in_fd >= 0) posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
  posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
  posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

bool WaitPid(pid_t pid, int& status, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Subprocess::Subprocess(std::vector<std::string> argv, std::string log_path) : log_path_(std::move(log_path)) {
  const int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + log_path_);
  try {
    pid_ = SpawnWithOutput(argv, fd, -1);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

Subprocess::~Subprocess() {
  Stop();
}

bool Subprocess::Running() {
  if (pid_ <= 0) return false;
  const pid_t r = waitpid(pid_, &status_, WNOHANG);
  if (r == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

int Subprocess::Stop(std::chrono::milliseconds limit) {
  if (pid_ <= 0) return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
  ::kill(pid_, SIGTERM);
  if (!WaitPid(pid_, status_, limit)) {
    ::kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
    pid_ = -1;
    return -1;
  }
  pid_ = -1;
  return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
}

std::string Subprocess::Log() const {
  return Slurp(log_path_);
}

RunResult RunCommand(const std::vector<std::string>& argv, std::chrono::seconds limit, const std::string& stdin_text) {
  TempDir tmp;
  const std::string out_path = tmp.path + "/out";
  const std::string in_path = tmp.path + "/in";
  std::ofstream(in_path) << stdin_text;
  const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int in = ::open(in_path.c_str(), O_RDONLY | O_CLOEXEC);
  RunResult result;
  pid_t pid = -1;
  try {
    pid = SpawnWithOutput(argv, out, in);
  } catch (const std::exception& e) {
    ::close(out);
    ::close(in);
    result.output = e.what();
    return result;
  }
  ::close(out);
  ::close(in);
  int status = 0;
  if (!WaitPid(pid, status, limit)) {
    ::kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    result.output = Slurp(out_path) + "\n[killed after timeout]";
    return result;
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.output = Slurp(out_path);
  return result;
}

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool WaitForHttp(const std::string& host, int port, const std::string& path, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    httplib::Client c(host, port);
    c.set_connection_timeout(1, 0);
    if (auto r = c.Get(path); r && r->status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::string HttpGet(const std::string& host, int port, const std::string& path) {
  httplib::Client c(host, port);
  c.set_read_timeout(20, 0);
  auto r = c.Get(path);
  if (!r) throw std::runtime_error("GET " + path + " failed: " + httplib::to_string(r.error()));
  if (r->status != 200) throw std::runtime_error("GET " + path + " returned " + std::to_string(r->status));
  return r->body;
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "xmppwatch-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

}  // namespace xw::testing
