// Alertmanager webhook payloads (version 4) and the text an on-call person reads in their
// XMPP client. The layout mirrors rules/templates/xmppwatch.tmpl, so chat, XMPP and the
// incident tool say the same thing.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace relay {

struct Alert {
  std::string status;  // "firing" | "resolved"
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::string starts_at;  // RFC 3339 as Alertmanager sends it
  std::string ends_at;
  std::string fingerprint;  // Alertmanager's, as `alerts` and `ack` show it
};

struct Notification {
  std::string status;
  std::string receiver;
  std::string external_url;
  std::map<std::string, std::string> common_labels;
  std::vector<Alert> alerts;
};

// Throws std::invalid_argument naming what is wrong (not JSON, not a webhook payload).
Notification ParseWebhook(std::string_view body);

// "[FIRING:2] HostDown (critical) on xmpp1, xmpp2"
std::string RenderTitle(const Notification& n);
// Title, then per alert: status and summary, where, since when, what (the description with
// the value), runbook; a silence link while firing. At most max_alerts alerts are written
// out, the rest counted.
std::string RenderText(const Notification& n, std::size_t max_alerts = 20);

// "2026-11-23T10:00:15.512Z" -> "2026-11-23 10:00:15 UTC"; other input is returned as is.
std::string FormatTime(std::string_view rfc3339);

}  // namespace relay
