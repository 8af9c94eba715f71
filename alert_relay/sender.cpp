#include "sender.h"

#include <fcntl.h>
#include <unistd.h>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "xmpp/outcome.h"
#include "xmpp/xmpp_client.h"

namespace relay {
namespace {

std::string ReadPassword(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw xp::ProbeError(xp::Outcome::kConfigError, "cannot read password file " + path);
  std::string line;
  std::getline(f, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  if (line.empty()) throw xp::ProbeError(xp::Outcome::kConfigError, "password file " + path + " is empty");
  return line;
}

std::string Timestamp() {
  char buf[32];
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

XmppSender::XmppSender(XmppOptions options) : options_(std::move(options)) {
  xp::TlsOptions tls;
  tls.ca_file = options_.ca_file;
  tls.insecure = options_.insecure;
  try {
    tls_ = std::make_shared<xp::TlsContext>(tls);
  } catch (const xp::ProbeError& e) {
    throw std::runtime_error(std::string("TLS set-up: ") + e.what());
  }
}

XmppSender::~XmppSender() = default;

Delivery XmppSender::Send(const std::string& text) {
  std::lock_guard<std::mutex> lock(mu_);
  Delivery d;
  if (options_.recipients.empty()) {
    d.outcome = "config_error";
    d.detail = "no recipients";
    return d;
  }
  auto deadline = xp::Clock::now() + options_.timeout;
  try {
    xp::ClientConfig cfg;
    cfg.target = options_.target;
    cfg.domain = options_.domain;
    cfg.user = options_.user;
    cfg.password = ReadPassword(options_.password_file);
    cfg.resource = "alert-relay";
    cfg.tls = tls_;
    xp::XmppClient client(cfg);
    client.Login(deadline);
    int n = 0;
    for (const auto& to : options_.recipients) {
      client.SendMessage(to, text, client.NextId("alert") + std::to_string(n++), false, deadline);
    }
    // The server answers in order: the ping's reply means the messages were routed (to the
    // recipient's sessions, or to offline storage).
    client.Ping(deadline);
    client.Close(xp::Clock::now() + std::chrono::milliseconds(500));
    d.ok = true;
    d.outcome = "ok";
  } catch (const xp::ProbeError& e) {
    d.outcome = std::string(xp::OutcomeName(e.outcome()));
    d.detail = e.what();
  } catch (const std::exception& e) {
    d.outcome = "error";
    d.detail = e.what();
  }
  return d;
}

Delivery SendFallback(const FallbackOptions& o, const std::string& text, const std::string& reason) {
  Delivery d;
  std::vector<std::string> done, failed;
  std::string full = "[alert relay fallback: XMPP delivery failed: " + reason + "]\n" + text;
  if (!o.url.empty()) {
    try {
      // scheme://host[:port][/path]
      std::size_t host_start = o.url.find("://");
      if (host_start == std::string::npos) throw std::invalid_argument("not an http(s) URL");
      std::size_t path_start = o.url.find('/', host_start + 3);
      std::string origin = o.url.substr(0, path_start);
      std::string path = path_start == std::string::npos ? "/" : o.url.substr(path_start);
      httplib::Client cli(origin);
      auto secs = std::max<long>(1, std::chrono::duration_cast<std::chrono::seconds>(o.timeout).count());
      cli.set_connection_timeout(secs, 0);
      cli.set_read_timeout(secs, 0);
      cli.set_write_timeout(secs, 0);
      nlohmann::json body = {{"text", full}, {"username", "xmppwatch-alert-relay"}};
      auto res = cli.Post(path, body.dump(), "application/json");
      if (res && res->status / 100 == 2) {
        done.push_back("url");
      } else {
        failed.push_back("url " + o.url + ": " +
                         (res ? "HTTP " + std::to_string(res->status) : httplib::to_string(res.error())));
      }
    } catch (const std::exception& e) {
      failed.push_back("url " + o.url + ": " + e.what());
    }
  }
  if (!o.file.empty()) {
    int fd = ::open(o.file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    std::string entry = Timestamp() + " " + full + "\n";
    if (fd >= 0 && ::write(fd, entry.data(), entry.size()) == static_cast<ssize_t>(entry.size())) {
      done.push_back("file");
    } else {
      failed.push_back("file " + o.file + ": " + std::strerror(errno));
    }
    if (fd >= 0) ::close(fd);
  }
  d.ok = !done.empty();
  std::ostringstream detail;
  for (const auto& s : done) detail << (detail.tellp() ? ", " : "") << s;
  for (const auto& s : failed) detail << (detail.tellp() ? "; " : "") << "failed " << s;
  d.outcome = d.ok ? "ok" : (done.empty() && failed.empty() ? "not_configured" : "failed");
  d.detail = detail.str();
  return d;
}

}  // namespace relay
