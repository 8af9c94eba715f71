// What a delivery of a rendered alert needs and returns: the XMPP side's options (the session
// itself is session.*), and the fallback (a Slack-compatible webhook and/or a file) that takes
// a notification the chat service could not, so an outage of the chat service never silences
// its own alerts.
#pragma once

#include <chrono>
#include <string>
#include <vector>

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
