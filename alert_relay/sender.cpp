#include "sender.h"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <sstream>
#include <stdexcept>

#include "secret_file.h"
#include "webhook_client.h"
#include "xmpp/outcome.h"
#include "xmpp/xmpp_client.h"

namespace relay {
namespace {

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
    try {
      cfg.password = xw::ReadSecretFile(options_.password_file);
    } catch (const xw::ConfigError& e) {
      throw xp::ProbeError(xp::Outcome::kConfigError, e.what());
    }
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
    const nlohmann::json body = {{"text", full}, {"username", "xmppwatch-alert-relay"}};
    const xw::WebhookResult r = xw::PostWebhook(o.url, body.dump(), o.timeout, o.ca_file);
    (r.ok ? done : failed).push_back("url " + r.outcome);
  }
  if (!o.file.empty()) {
    int fd = ::open(o.file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    std::string entry = Timestamp() + " " + full + "\n";
    if (fd >= 0 && ::write(fd, entry.data(), entry.size()) == static_cast<ssize_t>(entry.size())) {
      done.push_back("file ok");
    } else {
      failed.push_back(std::string("file failed: ") + std::strerror(errno));
    }
    if (fd >= 0) ::close(fd);
  }
  d.ok = !done.empty();
  std::ostringstream detail;
  for (const auto& s : done) detail << (detail.tellp() ? ", " : "") << s;
  for (const auto& s : failed) detail << (detail.tellp() ? "; " : "") << s;
  d.outcome = d.ok ? "ok" : (done.empty() && failed.empty() ? "not_configured" : "failed");
  d.detail = detail.str();
  return d;
}

}  // namespace relay
