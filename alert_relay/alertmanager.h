// Alertmanager's API v2, the part chat ops uses: silences (create, expire, list) and alerts.
// Stateless and thread-safe (one HTTP exchange per call, each with its own deadline), so the
// XMPP session thread and the webhook handler may both call it. The request bodies are built
// by pure functions, unit-tested (tests/rules/relay/relay_commands_test.cpp).
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "commands.h"

namespace relay {

// What went wrong, in words an on-call person can act on: the message is the chat answer.
struct AlertmanagerError : std::runtime_error {
  // "unreachable", "not_found", "refused" (4xx: Alertmanager said why), "failed" (5xx),
  // "bad_answer" (not the JSON expected): for logs and metrics labels.
  std::string kind;
  AlertmanagerError(std::string k, const std::string& what) : std::runtime_error(what), kind(std::move(k)) {}
};

using TimePoint = std::chrono::system_clock::time_point;

// RFC 3339 in UTC with milliseconds, as Alertmanager writes it.
std::string Rfc3339(TimePoint t);

// postableSilence: the matchers, [starts, ends), createdBy and comment.
nlohmann::json SilenceBody(const std::vector<Matcher>& matchers, TimePoint starts, TimePoint ends,
                           const std::string& created_by, const std::string& comment);
// Matchers that select exactly the alert with these labels (every label, name=value).
std::vector<Matcher> ExactMatchers(const nlohmann::json& labels);

class AlertmanagerClient {
 public:
  // base_url: http://host:port (loopback), without /api/v2.
  AlertmanagerClient(std::string base_url, std::chrono::milliseconds timeout);

  // POST /api/v2/silences; returns the new silence's ID.
  std::string CreateSilence(const nlohmann::json& body) const;
  // DELETE /api/v2/silence/{id}. Throws kind not_found when there is no such silence.
  void ExpireSilence(const std::string& id) const;
  // GET /api/v2/alerts: active only, or everything Alertmanager holds (silenced and
  // inhibited too) when all is true.
  nlohmann::json Alerts(bool all = false) const;
  // GET /api/v2/silences (every state).
  nlohmann::json Silences() const;

  const std::string& url() const { return base_; }

 private:
  nlohmann::json Call(const std::string& method, const std::string& path, const std::string& body,
                      const std::string& what) const;
  std::string base_;
  std::chrono::milliseconds timeout_;
};

}  // namespace relay
