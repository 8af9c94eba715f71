// Load mode: many XMPP sessions from few threads. One epoll event loop per core, each owning
// a share of the sessions as non-blocking state machines (no thread per session). Bounded in
// session count and run time, and only ever aimed at loopback addresses.
#pragma once

#include <string>

#include "daemon/options.h"

namespace CLI {
class App;
}

namespace xp {

struct LoadOptions {
  CommonOptions common;
  std::string target = "127.0.0.1:5222";
  std::string user_prefix = "load";  // accounts load1..loadN share one password file
  std::string password_file;
  int users = 0;  // distinct accounts (0: as many as sessions)
  int sessions = 100;
  double login_rate = 200;  // new sessions per second, all loops together
  double message_rate = 1;  // messages per second per session
  double duration = 30;     // seconds of messaging after the last login
  int threads = 0;          // 0: one per core
  std::string tls = "starttls";
  std::string ca_file;
  bool insecure = false;
  bool tls_resume = false;
  std::string mechanism = "SCRAM-SHA-256";
  bool json = false;
};

void AddLoadFlags(CLI::App& app, LoadOptions& o);
int RunLoad(const LoadOptions& o);

}  // namespace xp
