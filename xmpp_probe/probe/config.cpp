#include "config.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "probe/modules.h"
#include "xmpp/outcome.h"

namespace xp {

namespace {

[[noreturn]] void Bad(const std::string& where, const std::string& why) {
  throw std::runtime_error(where + ": " + why);
}

void CheckKeys(const YAML::Node& node, const std::vector<std::string>& allowed, const std::string& where) {
  if (!node.IsMap()) Bad(where, "expected a mapping");
  for (const auto& kv : node) {
    std::string key = kv.first.as<std::string>();
    bool ok = false;
    for (const auto& a : allowed) ok = ok || a == key;
    if (!ok) Bad(where, "unknown key '" + key + "'");
  }
}

Account ParseAccount(const YAML::Node& n, const std::string& where) {
  CheckKeys(n, {"user", "password_file", "target", "resource", "domain", "ca_file"}, where);
  Account a;
  a.user = n["user"].as<std::string>("");
  a.password_file = n["password_file"].as<std::string>("");
  a.target = n["target"].as<std::string>("");
  a.resource = n["resource"].as<std::string>("");
  a.domain = n["domain"].as<std::string>("");
  a.ca_file = n["ca_file"].as<std::string>("");
  if (a.user.empty()) Bad(where, "'user' is required");
  return a;
}

XmppOptions ParseXmpp(const YAML::Node& n, const std::string& where) {
  CheckKeys(n,
            {"domain", "tls", "ca_file", "insecure_skip_verify", "mechanisms", "max_stanza_bytes", "max_depth",
             "source_address", "backlog_bytes", "login_bytes", "session_bytes"},
            where);
  XmppOptions x;
  x.domain = n["domain"].as<std::string>("");
  std::string tls = n["tls"].as<std::string>("starttls");
  if (tls == "starttls")
    x.tls = TlsMode::kStarttls;
  else if (tls == "direct")
    x.tls = TlsMode::kDirect;
  else if (tls == "plain")
    x.tls = TlsMode::kPlain;
  else
    Bad(where, "tls must be starttls, direct or plain, not '" + tls + "'");
  x.ca_file = n["ca_file"].as<std::string>("");
  x.insecure_skip_verify = n["insecure_skip_verify"].as<bool>(false);
  if (n["mechanisms"]) x.mechanisms = n["mechanisms"].as<std::vector<std::string>>();
  x.max_stanza_bytes = n["max_stanza_bytes"].as<std::size_t>(x.max_stanza_bytes);
  x.max_depth = n["max_depth"].as<int>(x.max_depth);
  x.source_address = n["source_address"].as<std::string>("");
  x.budgets.backlog_bytes = n["backlog_bytes"].as<std::size_t>(x.budgets.backlog_bytes);
  x.budgets.login_bytes = n["login_bytes"].as<std::uint64_t>(x.budgets.login_bytes);
  x.budgets.session_bytes = n["session_bytes"].as<std::uint64_t>(x.budgets.session_bytes);
  if (x.budgets.backlog_bytes < x.max_stanza_bytes) {
    Bad(where, "backlog_bytes must be at least max_stanza_bytes (one stanza must fit)");
  }
  return x;
}

std::chrono::milliseconds DurationOr(const YAML::Node& n, std::chrono::milliseconds dflt, const std::string& where) {
  if (!n) return dflt;
  try {
    return ParseDuration(n.as<std::string>());
  } catch (const std::exception& e) {
    Bad(where, e.what());
  }
}

FailoverOptions ParseFailover(const YAML::Node& n, const std::string& where) {
  CheckKeys(n,
            {"interval", "ping_timeout", "backoff_initial", "backoff_max", "delayed_after", "resume", "resume_timeout",
             "lost_after", "continuous"},
            where);
  FailoverOptions f;
  f.interval = DurationOr(n["interval"], f.interval, where + ".interval");
  f.ping_timeout = DurationOr(n["ping_timeout"], f.ping_timeout, where + ".ping_timeout");
  f.backoff_initial = DurationOr(n["backoff_initial"], f.backoff_initial, where + ".backoff_initial");
  f.backoff_max = DurationOr(n["backoff_max"], f.backoff_max, where + ".backoff_max");
  f.delayed_after = DurationOr(n["delayed_after"], f.delayed_after, where + ".delayed_after");
  f.resume = n["resume"].as<bool>(true);
  f.resume_timeout = DurationOr(n["resume_timeout"], f.resume_timeout, where + ".resume_timeout");
  f.lost_after = DurationOr(n["lost_after"], f.lost_after, where + ".lost_after");
  f.continuous = n["continuous"].as<bool>(false);
  if (f.interval.count() < 10) Bad(where, "interval below 10ms");
  return f;
}

MucOptions ParseMuc(const YAML::Node& n, const std::string& where) {
  CheckKeys(n, {"service", "room"}, where);
  MucOptions o;
  o.service = n["service"].as<std::string>("");
  o.room = n["room"].as<std::string>(o.room);
  if (o.room.empty() || o.room.find_first_of("@/ ") != std::string::npos) Bad(where, "room must be a plain local part");
  return o;
}

UploadOptions ParseUpload(const YAML::Node& n, const std::string& where) {
  CheckKeys(n, {"payload_bytes", "resolve"}, where);
  UploadOptions o;
  o.payload_bytes = n["payload_bytes"].as<std::size_t>(o.payload_bytes);
  if (o.payload_bytes == 0 || o.payload_bytes > 1024 * 1024) Bad(where, "payload_bytes must be 1..1048576");
  if (n["resolve"]) {
    if (!n["resolve"].IsMap()) Bad(where, "resolve must map host names to addresses");
    o.resolve = n["resolve"].as<std::map<std::string, std::string>>();
  }
  return o;
}

PushOptions ParsePush(const YAML::Node& n, const std::string& where) {
  CheckKeys(n, {"app_server", "node"}, where);
  PushOptions o;
  if (n["app_server"]) o.app_server = ParseAccount(n["app_server"], where + ".app_server");
  o.node = n["node"].as<std::string>(o.node);
  if (o.node.empty()) Bad(where, "node must not be empty");
  return o;
}

E2eOptions ParseE2e(const YAML::Node& n, const std::string& where) {
  CheckKeys(n, {"interval", "lost_after", "ping_timeout", "backoff_initial", "backoff_max", "receivers", "continuous"},
            where);
  E2eOptions e;
  e.interval = DurationOr(n["interval"], e.interval, where + ".interval");
  e.lost_after = DurationOr(n["lost_after"], e.lost_after, where + ".lost_after");
  e.ping_timeout = DurationOr(n["ping_timeout"], e.ping_timeout, where + ".ping_timeout");
  e.backoff_initial = DurationOr(n["backoff_initial"], e.backoff_initial, where + ".backoff_initial");
  e.backoff_max = DurationOr(n["backoff_max"], e.backoff_max, where + ".backoff_max");
  e.continuous = n["continuous"].as<bool>(false);
  if (e.interval.count() < 100) Bad(where, "interval below 100ms");
  if (e.lost_after < e.interval) Bad(where, "lost_after shorter than interval");
  if (e.backoff_initial.count() < 10 || e.backoff_max < e.backoff_initial) Bad(where, "backoff_initial/backoff_max");
  if (n["receivers"]) {
    if (!n["receivers"].IsMap()) Bad(where, "receivers must map a label to an account");
    for (const auto& kv : n["receivers"]) {
      const auto name = kv.first.as<std::string>();
      e.receivers[name] = ParseAccount(kv.second, where + ".receivers." + name);
    }
  }
  return e;
}

}  // namespace

std::chrono::milliseconds ParseDuration(const std::string& text) {
  std::size_t pos = 0;
  double value = 0;
  try {
    value = std::stod(text, &pos);
  } catch (const std::exception&) {
    throw std::invalid_argument("bad duration '" + text + "'");
  }
  std::string unit = text.substr(pos);
  double ms = unit == "ms" ? value : unit == "s" ? value * 1000 : unit == "m" ? value * 60000 : -1;
  if (ms < 0 || value < 0) throw std::invalid_argument("bad duration '" + text + "' (use ms, s or m)");
  return std::chrono::milliseconds(static_cast<long long>(ms));
}

ProbeConfig ParseConfig(const std::string& yaml_text, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    Bad(origin, e.what());
  }
  CheckKeys(root, {"modules"}, origin);
  ProbeConfig cfg;
  for (const auto& kv : root["modules"]) {
    ModuleConfig m;
    m.name = kv.first.as<std::string>();
    std::string where = origin + ": module " + m.name;
    const YAML::Node& n = kv.second;
    try {
      CheckKeys(n,
                {"prober", "target", "allowed_targets", "timeout", "xmpp", "account", "peer", "failover", "e2e", "muc",
                 "upload", "push"},
                where);
      m.prober = n["prober"].as<std::string>("");
      if (!IsKnownProber(m.prober)) Bad(where, "unknown prober '" + m.prober + "'");
      m.target = n["target"].as<std::string>("");
      if (n["allowed_targets"]) {
        if (!n["allowed_targets"].IsSequence()) Bad(where, "allowed_targets must be a list of host:port patterns");
        m.allowed_targets = n["allowed_targets"].as<std::vector<std::string>>();
        for (const auto& p : m.allowed_targets) {
          if (p.find(':') == std::string::npos) Bad(where, "allowed_targets entry '" + p + "' has no :port");
        }
      }
      m.timeout = DurationOr(n["timeout"], m.timeout, where + ".timeout");
      if (n["xmpp"]) m.xmpp = ParseXmpp(n["xmpp"], where + ".xmpp");
      if (n["account"]) m.account = ParseAccount(n["account"], where + ".account");
      if (n["peer"]) m.peer = ParseAccount(n["peer"], where + ".peer");
      if (n["failover"]) m.failover = ParseFailover(n["failover"], where + ".failover");
      if (n["e2e"]) m.e2e = ParseE2e(n["e2e"], where + ".e2e");
      if (n["muc"]) m.muc = ParseMuc(n["muc"], where + ".muc");
      if (n["upload"]) m.upload = ParseUpload(n["upload"], where + ".upload");
      if (n["push"]) m.push = ParsePush(n["push"], where + ".push");
    } catch (const YAML::Exception& e) {
      Bad(where, e.what());
    }
    bool needs_account = m.prober != "c2s";
    bool needs_peer = m.prober == "message" || m.prober == "offline" || m.prober == "mam" || m.prober == "failover" ||
                      m.prober == "muc" || m.prober == "push" || m.prober == "carbons" || m.prober == "s2s";
    if (needs_account && m.account.user.empty()) Bad(where, "prober " + m.prober + " needs 'account'");
    if (needs_peer && m.peer.user.empty()) Bad(where, "prober " + m.prober + " needs 'peer'");
    if (m.prober == "e2e" && m.e2e.receivers.empty()) Bad(where, "prober e2e needs 'e2e.receivers'");
    if (m.prober == "push" && m.push.app_server.user.empty()) Bad(where, "prober push needs 'push.app_server'");
    cfg.modules[m.name] = m;
  }
  return cfg;
}

ProbeConfig LoadConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str(), path);
}

std::string ReadPassword(const Account& account) {
  if (account.password_file.empty()) {
    throw ProbeError(Outcome::kConfigError, "account '" + account.user + "' has no password_file");
  }
  std::ifstream in(account.password_file);
  std::string line;
  if (!in || !std::getline(in, line) || line.empty()) {
    throw ProbeError(Outcome::kConfigError, "cannot read a password from " + account.password_file);
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

ClientConfig MakeClientConfig(const ModuleConfig& module, const Account& account, const std::string& target,
                              const std::string& default_resource) {
  ClientConfig c;
  c.target = account.target.empty() ? target : account.target;
  c.domain = module.xmpp.domain.empty() ? SplitHostPort(target, 5222).first : module.xmpp.domain;
  if (!account.domain.empty()) c.domain = account.domain;
  c.user = account.user;
  c.password = ReadPassword(account);
  c.resource = account.resource.empty() ? default_resource : account.resource;
  c.tls_mode = module.xmpp.tls;
  c.mechanisms = module.xmpp.mechanisms;
  c.limits.max_stanza_bytes = module.xmpp.max_stanza_bytes;
  c.limits.max_depth = module.xmpp.max_depth;
  c.budgets = module.xmpp.budgets;
  c.source_address = module.xmpp.source_address;
  if (c.tls_mode != TlsMode::kPlain) {
    TlsOptions t;
    t.ca_file = account.ca_file.empty() ? module.xmpp.ca_file : account.ca_file;
    t.insecure = module.xmpp.insecure_skip_verify;
    c.tls = std::make_shared<TlsContext>(t);
  }
  return c;
}

std::string DefaultConfigYaml(const std::string& run_dir, const std::string& domain) {
  const std::string xmpp =
      "    xmpp:\n      domain: " + domain + "\n      ca_file: " + run_dir + "/tls/" + domain + ".crt\n";
  auto acct = [&](const char* key, const char* user, const char* extra = "") {
    return std::string("    ") + key + ":\n      user: " + user + "\n      password_file: " + run_dir +
           "/secrets/xmpp-" + user + ".password\n" + extra;
  };
  return "modules:\n"
         "  c2s:\n    prober: c2s\n    target: 127.0.0.1:5222\n    timeout: 5s\n" +
         xmpp + "  c2s_tls:\n    prober: c2s\n    target: 127.0.0.2:5223\n    timeout: 5s\n" + xmpp +
         "      tls: direct\n" + "  login:\n    prober: login\n    target: 127.0.0.1:5222\n    timeout: 10s\n" + xmpp +
         acct("account", "probe1") +
         // node_login: the same login on each node directly (Prometheus job xmpp_probe_nodes
         // passes the node as target), so a node the load balancer hides is still seen. The
         // allowed targets are the other nodes server/stack may run (up --nodes 5: .5 to .7).
         "  node_login:\n    prober: login\n    target: 127.0.0.2:5222\n"
         "    allowed_targets: [\"127.0.0.3:5222\", \"127.0.0.5:5222\", \"127.0.0.6:5222\", \"127.0.0.7:5222\"]\n"
         "    timeout: 10s\n" +
         xmpp + acct("account", "nodeprobe") +
         "  message:\n    prober: message\n    target: 127.0.0.2:5222\n    timeout: 10s\n" + xmpp +
         acct("account", "probe1") + acct("peer", "probe2", "      target: 127.0.0.3:5222\n") +
         "  offline:\n    prober: offline\n    target: 127.0.0.1:5222\n    timeout: 15s\n" + xmpp +
         acct("account", "probe1") + acct("peer", "carol") +
         "  mam:\n    prober: mam\n    target: 127.0.0.1:5222\n    timeout: 10s\n" + xmpp + acct("account", "probe1") +
         acct("peer", "probe2") +
         // muc, upload, push, carbons (docs/probe.md): accounts of their own where a session of
         // the account elsewhere would change what the server does (push needs its user fully
         // offline; probe1 already has up to six sessions per scrape of max_user_sessions 10).
         "  muc:\n    prober: muc\n    target: 127.0.0.1:5222\n    timeout: 10s\n" + xmpp + acct("account", "probe1") +
         acct("peer", "probe2", "      target: 127.0.0.3:5222\n") + "    muc:\n      room: xmpp_probe\n" +
         "  upload:\n    prober: upload\n    target: 127.0.0.1:5222\n    timeout: 10s\n" + xmpp +
         acct("account", "probe3") +
         // The nodes' put_url names them ejabberdN.DOMAIN (covered by the certificate's
         // *.DOMAIN); the stack has no DNS, so the probe resolves them as an /etc/hosts would.
         "    upload:\n      resolve:\n        ejabberd1." + domain + ": 127.0.0.2\n        ejabberd2." + domain +
         ": 127.0.0.3\n" + "        ejabberd3." + domain + ": 127.0.0.5\n        ejabberd4." + domain +
         ": 127.0.0.6\n        ejabberd5." + domain + ": 127.0.0.7\n" +
         "  push:\n    prober: push\n    target: 127.0.0.1:5222\n    timeout: 10s\n" + xmpp +
         acct("account", "probe4") + acct("peer", "probe2") + "    push:\n      node: xmpp_probe\n" +
         // No fixed resource for the app server: each run's session gets its own, so a `check`
         // running while Prometheus probes does not replace the daemon's app server session
         // (the registration names the full JID of whichever session enabled it).
         "      app_server:\n        user: pushsvc\n        password_file: " + run_dir +
         "/secrets/xmpp-pushsvc.password\n" +
         "  carbons:\n    prober: carbons\n    target: 127.0.0.1:5222\n    timeout: 10s\n" + xmpp +
         acct("account", "probe3") + acct("peer", "probe2") +
         "  failover:\n    prober: failover\n    target: 127.0.0.1:5222\n    timeout: 10s\n" + xmpp +
         acct("account", "probe1", "      resource: failover-tx\n") +
         acct("peer", "probe2", "      resource: failover-rx\n") +
         "    failover:\n      interval: 100ms\n      continuous: true\n"
         // The drill gets accounts of its own: while its receiver reconnects, the server
         // hands messages to any other online resource of that account, such as the daemon's.
         "  drill:\n    prober: failover\n    target: 127.0.0.1:5222\n    timeout: 10s\n" +
         xmpp + acct("account", "alice", "      resource: drill-tx\n") +
         acct("peer", "bob", "      resource: drill-rx\n") +
         "    failover:\n      interval: 100ms\n"
         // The same with the receiver on node 2 directly: every message crosses the cluster
         // (the fault matrix's cross-node latency and its partition).
         "  drill_crossnode:\n    prober: failover\n    target: 127.0.0.1:5222\n    timeout: 10s\n" +
         xmpp + acct("account", "alice", "      resource: drill-tx\n") +
         acct("peer", "bob", "      resource: drill-rx\n      target: 127.0.0.3:5222\n") +
         "    failover:\n      interval: 100ms\n"
         // SLO traffic: a message every 2 s through the load balancer to a receiver on each
         // node directly, so one of the two crosses the cluster whichever node the sender is on.
         "  e2e:\n    prober: e2e\n    target: 127.0.0.1:5222\n    timeout: 10s\n" +
         xmpp + acct("account", "e2etx") +
         "    e2e:\n      interval: 2s\n      lost_after: 10s\n      continuous: true\n      receivers:\n"
         "        xmpp1:\n          user: e2erx1\n          password_file: " +
         run_dir + "/secrets/xmpp-e2erx1.password\n          target: 127.0.0.2:5222\n" +
         "        xmpp2:\n          user: e2erx2\n          password_file: " + run_dir +
         "/secrets/xmpp-e2erx2.password\n          target: 127.0.0.3:5222\n" +
         // Federation (server/lib/peer.sh): the target is peer.test's s2s listener; the sender
         // logs in to this domain through the load balancer, the receiver at the peer.
         "  s2s:\n    prober: s2s\n    target: 127.0.0.4:5269\n    timeout: 10s\n" + xmpp +
         acct("account", "s2sprobe", "      target: 127.0.0.1:5222\n") +
         "    peer:\n      user: probe\n      password_file: " + run_dir +
         "/secrets/peer-xmpp-probe.password\n      target: 127.0.0.4:5222\n      domain: peer.test\n"
         "      ca_file: " +
         run_dir + "/tls/peer.test.crt\n";
}

}  // namespace xp
