// POSTing JSON to a webhook (the relay's Slack-compatible fallback). Unlike http_client.h,
// made for a URL that is a secret: http:// or https:// (verified against the system store or
// a CA file), host names allowed, one deadline for resolve + connect + TLS + exchange, and
// results that never contain the URL, so they can be logged and returned to callers.
#pragma once

#include <chrono>
#include <string>

namespace xw {

struct WebhookResult {
  bool ok = false;  // a 2xx answer
  // "ok", "http_<status>", "bad_url", "resolve_failed", "connect_failed", "tls_failed",
  // "timeout", "io_error": safe to log, to count, to answer with.
  std::string outcome;
};

WebhookResult PostWebhook(const std::string& url, const std::string& json, std::chrono::milliseconds timeout,
                          const std::string& ca_file = "");

}  // namespace xw
