// The load balancer agent (exporter/lb_agent): what it tells HAProxy for each answer of a fake
// ejabberd API on a 127.0.0.1 port the test opens, including a hung one. The real thing is
// exercised by the fault matrix (server/stack validate: db-stop, disk-full).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "lb_agent/lb_agent.h"
#include "unique_fd.h"
#include "web_config.h"

namespace xw::testing {
namespace {

using namespace std::chrono_literals;

// A one-thread HTTP server on 127.0.0.1 answering every request with `reply` (or with nothing
// at all while `hang` is set). Records the last request.
class FakeApi {
 public:
  explicit FakeApi(std::string reply) : reply_(std::move(reply)) {
    fd_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_.get(), 16), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeApi() {
    stop_ = true;
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/api"; }
  int port() const { return port_; }
  std::atomic<bool> hang{false};
  std::string last_request() {
    std::lock_guard lock(mu_);
    return last_;
  }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      UniqueFd c(::accept(fd_.get(), nullptr, nullptr));
      char buf[4096];
      const ssize_t n = ::recv(c.get(), buf, sizeof buf, 0);
      {
        std::lock_guard lock(mu_);
        last_.assign(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
      }
      while (hang && !stop_) std::this_thread::sleep_for(10ms);
      (void)!::send(c.get(), reply_.data(), reply_.size(), MSG_NOSIGNAL);
    }
  }
  std::string reply_;
  UniqueFd fd_;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::string last_;
  std::thread thread_;
};

std::string Http(int status, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

exporter::LbAgentOptions Options(const std::string& api) {
  exporter::LbAgentOptions o;
  o.address = ParseListenAddress("127.0.0.1:0");
  o.api_url = api;
  o.domain = "xmpp.test";
  o.interval = 20ms;
  o.timeout = 200ms;
  return o;
}

// What HAProxy reads from the agent port: one line, then the connection closes.
std::string AskAgent(int port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return "connect failed";
  std::string out;
  char buf[256];
  for (ssize_t n; (n = ::recv(fd.get(), buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  return out;
}

// Polls (bounded) until the agent's answer starts with `prefix`; returns the last answer.
std::string AnswerWhen(const exporter::LbAgent& agent, const std::string& prefix) {
  std::string last;
  for (int i = 0; i < 200; ++i) {
    last = AskAgent(agent.port());
    if (last.rfind(prefix, 0) == 0) break;
    std::this_thread::sleep_for(20ms);
  }
  return last;
}

TEST(LbAgent, UpWhileTheWriteThroughEjabberdSucceeds) {
  FakeApi api(Http(200, "0"));
  exporter::LbAgent agent(Options(api.url()));
  EXPECT_EQ(AnswerWhen(agent, "up"), "up\n");
  const std::string req = api.last_request();
  EXPECT_NE(req.find("POST /api/set_last "), std::string::npos) << req;
  EXPECT_NE(req.find("\"user\":\"xmppwatch-lb-agent\""), std::string::npos) << req;
  EXPECT_NE(req.find("\"host\":\"xmpp.test\""), std::string::npos) << req;
}

TEST(LbAgent, DownWithTheReasonWhenEjabberdReportsAnError) {
  FakeApi api(Http(500, "{\"status\":\"error\",\"message\":\"db failure\\n#x\"}"));
  exporter::LbAgent agent(Options(api.url()));
  const std::string answer = AnswerWhen(agent, "down #ejabberd");
  // HAProxy takes "down #reason" (a space before '#'); the reason is one line with no '#'.
  ASSERT_EQ(answer.rfind("down #", 0), 0u) << answer;
  EXPECT_NE(answer.find("500"), std::string::npos) << answer;
  EXPECT_EQ(answer.find('#', 6), std::string::npos) << answer;
  EXPECT_EQ(answer.find('\n'), answer.size() - 1) << answer;
}

TEST(LbAgent, DownWhenTheResultIsNotSuccess) {
  FakeApi api(Http(200, "1"));
  exporter::LbAgent agent(Options(api.url()));
  EXPECT_EQ(AnswerWhen(agent, "down #ejabberd").rfind("down #ejabberd set_last answered 200", 0), 0u);
}

TEST(LbAgent, DownWhenEjabberdDoesNotAnswerInTime) {
  FakeApi api(Http(200, "0"));
  api.hang = true;
  exporter::LbAgent agent(Options(api.url()));
  const std::string answer = AnswerWhen(agent, "down #ejabberd");
  EXPECT_NE(answer.find("timeout"), std::string::npos) << answer;
  api.hang = false;
  EXPECT_EQ(AnswerWhen(agent, "up"), "up\n");
}

TEST(LbAgent, DownWhenTheApiIsClosed) {
  int port = 0;
  {
    FakeApi gone(Http(200, "0"));  // a port that was just free and is closed again
    port = gone.port();
  }
  exporter::LbAgent agent(Options("http://127.0.0.1:" + std::to_string(port) + "/api"));
  EXPECT_EQ(AnswerWhen(agent, "down #ejabberd api").rfind("down #ejabberd api connect", 0), 0u);
}

TEST(LbAgent, MetricsSayWhatTheBalancerWasTold) {
  FakeApi api(Http(200, "0"));
  exporter::LbAgent agent(Options(api.url()));
  ASSERT_EQ(AnswerWhen(agent, "up"), "up\n");
  bool ready = false, answered = false;
  for (const auto& f : agent.Collect()) {
    if (f.name == "xmppwatch_lb_agent_ready") ready = f.metric.at(0).gauge.value == 1;
    if (f.name == "xmppwatch_lb_agent_answers_total") answered = f.metric.at(0).counter.value >= 1;
  }
  EXPECT_TRUE(ready);
  EXPECT_TRUE(answered);
}

TEST(LbAgent, ABusyAddressIsAConfigErrorNamingIt) {
  FakeApi api(Http(200, "0"));
  exporter::LbAgent first(Options(api.url()));
  auto o = Options(api.url());
  o.address = ParseListenAddress("127.0.0.1:" + std::to_string(first.port()));
  try {
    exporter::LbAgent second(o);
    FAIL() << "bound a busy port";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(first.port())), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace xw::testing
