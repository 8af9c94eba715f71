// Probe modules from YAML, blackbox_exporter style: a module names a prober and its options;
// /probe?module=NAME&target=HOST:PORT runs it. Passwords live in files named by the config
// and are read at probe time, so they never appear in the config, the logs or the metrics.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "xmpp/xmpp_client.h"

namespace xp {

struct Account {
  std::string user;           // local part
  std::string password_file;  // first line is the password
  std::string target;         // optional: connect here instead of the probe target
  std::string resource;       // optional
  // Optional, for an account on another domain (s2s: the federated peer's): its XMPP domain
  // and the CA file its server's certificate verifies against, instead of the module's.
  std::string domain;
  std::string ca_file;
};

struct XmppOptions {
  std::string domain;  // empty: the target's host name
  TlsMode tls = TlsMode::kStarttls;
  std::string ca_file;
  bool insecure_skip_verify = false;
  std::vector<std::string> mechanisms = {"SCRAM-SHA-256", "SCRAM-SHA-1"};
  std::size_t max_stanza_bytes = 256 * 1024;
  ByteBudgets budgets;  // backlog_bytes, login_bytes, session_bytes (see xmpp/xmpp_client.h)
  int max_depth = 24;
  std::string source_address;
};

struct FailoverOptions {
  std::chrono::milliseconds interval{100};
  std::chrono::milliseconds ping_timeout{1000};  // no pong within this: connection is dead
  std::chrono::milliseconds backoff_initial{50};
  std::chrono::milliseconds backoff_max{2000};
  std::chrono::milliseconds delayed_after{1000};  // a message slower than this counts as delayed
  bool resume = true;
  // How long a resumption may take before the session gives it up and logs in afresh, as a
  // client would: resuming a session that lived on a hung node waits until that node resumes
  // or the cluster declares it down (net_ticktime), which the fault matrix measured at 20 s.
  std::chrono::milliseconds resume_timeout{2000};
  // A message not delivered this long after it was sent counts as lost (continuous mode; the
  // drill waits until it ends instead, so a late message counts as delayed, not lost).
  std::chrono::milliseconds lost_after{30000};
  bool continuous = false;  // run in the daemon all the time, feeding /metrics
};

// muc prober (XEP-0045): the room the account creates or joins, the peer reads its history.
struct MucOptions {
  std::string service;  // MUC service JID; empty: conference.<domain>
  std::string room = "xmpp_probe";
};

// upload prober (XEP-0363).
struct UploadOptions {
  std::size_t payload_bytes = 256;  // random bytes per probe (the docroot keeps them, see docs/probe.md)
  // host -> address for the slot URLs' host names, as curl's --resolve or an /etc/hosts line:
  // the certificate is still checked against the URL's host name.
  std::map<std::string, std::string> resolve;
};

// push prober (XEP-0357): the probe's own app server session receives the notification.
struct PushOptions {
  Account app_server;
  std::string node = "xmpp_probe";  // fixed, so a new registration replaces a leftover one
};

// e2e prober (e2e.h): a sender through the module's target (the load balancer) and one
// receiver per entry, each pinned to a node, so every message crosses the cluster to at least
// one of them whichever node the load balancer picked for the sender.
struct E2eOptions {
  std::chrono::milliseconds interval{5000};      // one message per receiver this often
  std::chrono::milliseconds lost_after{10000};   // not delivered by then: failed (late if it comes)
  std::chrono::milliseconds ping_timeout{2000};  // keep-alive: no pong within this, the session is dead
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{5000};
  std::map<std::string, Account> receivers;  // label value -> account (its own target: the node)
  bool continuous = false;
};

struct ModuleConfig {
  std::string name;
  std::string prober;  // c2s, login, message, offline, mam, failover
  std::string target;  // default target when the request names none
  // Further targets /probe may aim this module at ("host:port" globs, see target_policy.h).
  std::vector<std::string> allowed_targets;
  std::chrono::milliseconds timeout{10000};
  XmppOptions xmpp;
  Account account;
  Account peer;  // message/offline/mam/muc/push/carbons: the other party
  FailoverOptions failover;
  E2eOptions e2e;
  MucOptions muc;
  UploadOptions upload;
  PushOptions push;
};

struct ProbeConfig {
  std::map<std::string, ModuleConfig> modules;
};

// Throws ConfigError-like std::runtime_error naming the file/module/key.
ProbeConfig ParseConfig(const std::string& yaml_text, const std::string& origin);
ProbeConfig LoadConfig(const std::string& path);
// The configuration for the local stack (server/stack): run_dir holds secrets/ and tls/.
std::string DefaultConfigYaml(const std::string& run_dir, const std::string& domain);
// "100ms", "10s", "1.5s", "2m". Throws std::invalid_argument.
std::chrono::milliseconds ParseDuration(const std::string& text);

// Reads an account's password; throws ProbeError(kConfigError) naming the file, never the value.
std::string ReadPassword(const Account& account);
// Client settings for an account of a module against a target (the account's own target wins).
ClientConfig MakeClientConfig(const ModuleConfig& module, const Account& account, const std::string& target,
                              const std::string& default_resource);

}  // namespace xp
