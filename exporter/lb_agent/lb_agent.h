// HAProxy agent-check server: tells the load balancer whether this node can serve users.
//
// HAProxy's own check only proves that ejabberd answers a stream header. A node whose
// database is gone (or full, or hung) answers that too, while every login-and-message on it
// fails: the balancer would keep sending every user there. The agent runs, every interval, one
// write through ejabberd's own SQL pool (mod_http_api `set_last` on a dedicated account) with
// a short deadline, and answers each agent connection with "up" or "down #<reason>".
//
// An agent that cannot be reached leaves HAProxy's verdict to its regular check (HAProxy
// documents that), so a stopped exporter never takes a healthy node out; only an agent that
// positively sees the database path broken does.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <prometheus/metric_family.h>

#include "http_server.h"

namespace xw::exporter {

struct LbAgentOptions {
  ListenAddress address;
  std::string api_url = "http://127.0.0.1:5280/api";  // this node's mod_http_api
  std::string domain;                                 // vhost of the check account
  std::string user = "xmppwatch-lb-agent";            // account whose last-activity row is written
  std::chrono::milliseconds interval{250};
  std::chrono::milliseconds timeout{1000};
};

class LbAgent {
 public:
  explicit LbAgent(LbAgentOptions options);  // binds; throws ConfigError naming the address
  ~LbAgent();
  LbAgent(const LbAgent&) = delete;
  LbAgent& operator=(const LbAgent&) = delete;

  // The line an agent connection gets now: "up\n" or "down #reason\n".
  std::string Status() const;
  std::vector<prometheus::MetricFamily> Collect() const;
  int port() const { return port_; }

 private:
  void CheckLoop();
  void ServeLoop();
  void RunCheck();

  LbAgentOptions options_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  bool ready_ = false;
  std::string reason_ = "no check yet";
  std::chrono::steady_clock::time_point checked_at_{};
  double last_duration_ = 0;
  double checks_ok_ = 0, checks_failed_ = 0, answers_up_ = 0, answers_down_ = 0;
  std::thread checker_;
  std::thread server_;
};

}  // namespace xw::exporter
