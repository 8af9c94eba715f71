// Delivery of a rendered alert: as XMPP messages through the chat service itself (the xmpp/
// client library), or, when that fails, to a fallback (a Slack-compatible webhook and/or a
// file) so an outage of the chat service never silences its own alerts.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace xp {
class TlsContext;
}

namespace relay {

struct XmppOptions {
  std::string target = "127.0.0.1:5222";  // the load balancer, like any user
  std::string domain = "xmpp.test";
  std::string user = "alerts";
  std::string password_file;
  std::string ca_file;  // empty: the system store
  bool insecure = false;
  std::vector<std::string> recipients;  // bare JIDs
  std::chrono::milliseconds timeout{5000};
};

struct Delivery {
  bool ok = false;
  std::string outcome;  // "ok" or the XMPP client's outcome name (connect_refused, auth_failed, ...)
  std::string detail;   // for the log only: may name hosts and files, never secrets
};

class XmppSender {
 public:
  explicit XmppSender(XmppOptions options);  // throws std::runtime_error on a bad TLS set-up
  ~XmppSender();
  // Logs in (a fresh session per notification: alerts are rare, and a session that died
  // between two alerts would need the same error handling anyway), sends the text to every
  // recipient, and confirms with a ping that the server has routed the messages.
  // Serialised: one delivery at a time.
  Delivery Send(const std::string& text);
  const XmppOptions& options() const { return options_; }

 private:
  XmppOptions options_;
  std::shared_ptr<xp::TlsContext> tls_;
  std::mutex mu_;
};

struct FallbackOptions {
  // POST {"text": ...} (Slack/Mattermost incoming-webhook format). A secret (it holds the
  // hook's token): read from --fallback.url-file, never logged, never in an answer.
  std::string url;
  std::string file;     // append the text
  std::string ca_file;  // for an https URL; empty: the system store
  std::chrono::milliseconds timeout{5000};
};

// Delivers to every configured fallback; ok when at least one took it. outcome and detail
// name what happened ("url ok", "url http_404", "file failed: Permission denied"), never the
// URL itself.
Delivery SendFallback(const FallbackOptions& options, const std::string& text, const std::string& reason);

}  // namespace relay
