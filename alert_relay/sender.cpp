#include "sender.h"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <sstream>

#include "webhook_client.h"

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
