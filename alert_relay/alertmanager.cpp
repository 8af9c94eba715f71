#include "alertmanager.h"

#include <ctime>

#include "http_client.h"

namespace relay {
namespace {

// Alertmanager's error bodies are a JSON string or {"message": ...}; either way a short,
// printable reason for the chat answer.
std::string Reason(const std::string& body) {
  std::string why = body;
  try {
    const auto j = nlohmann::json::parse(body);
    if (j.is_string()) why = j.get<std::string>();
    if (j.is_object() && j.contains("message") && j["message"].is_string()) why = j["message"].get<std::string>();
  } catch (const nlohmann::json::exception&) {
  }
  while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
  return Printable(why, 200);
}

}  // namespace

std::string Rfc3339(TimePoint t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

nlohmann::json SilenceBody(const std::vector<Matcher>& matchers, TimePoint starts, TimePoint ends,
                           const std::string& created_by, const std::string& comment) {
  nlohmann::json m = nlohmann::json::array();
  for (const auto& x : matchers) {
    m.push_back({{"name", x.name}, {"value", x.value}, {"isRegex", x.regex}, {"isEqual", x.equal}});
  }
  return {{"matchers", m},
          {"startsAt", Rfc3339(starts)},
          {"endsAt", Rfc3339(ends)},
          {"createdBy", created_by},
          {"comment", comment}};
}

std::vector<Matcher> ExactMatchers(const nlohmann::json& labels) {
  std::vector<Matcher> out;
  if (!labels.is_object()) return out;
  for (const auto& [k, v] : labels.items()) {
    if (v.is_string()) out.push_back(Matcher{k, v.get<std::string>(), true, false});
  }
  return out;
}

AlertmanagerClient::AlertmanagerClient(std::string base_url, std::chrono::milliseconds timeout)
    : base_(std::move(base_url)), timeout_(timeout) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
}

nlohmann::json AlertmanagerClient::Call(const std::string& method, const std::string& path, const std::string& body,
                                        const std::string& what) const {
  xw::HttpReply reply;
  try {
    reply = xw::HttpRequestJson(method, base_ + path, body, timeout_);
  } catch (const xw::HttpError& e) {
    throw AlertmanagerError("unreachable", "Alertmanager unreachable (" + e.reason + ")");
  }
  if (reply.status == 404) throw AlertmanagerError("not_found", Reason(reply.body));
  if (reply.status / 100 == 4) {
    throw AlertmanagerError("refused", "Alertmanager refused to " + what + ": " + Reason(reply.body));
  }
  if (reply.status / 100 != 2) {
    throw AlertmanagerError("failed", "Alertmanager could not " + what + " (HTTP " + std::to_string(reply.status) +
                                          "): " + Reason(reply.body));
  }
  if (reply.body.empty()) return nullptr;
  try {
    return nlohmann::json::parse(reply.body);
  } catch (const nlohmann::json::exception&) {
    throw AlertmanagerError("bad_answer", "Alertmanager's answer to " + what + " is not JSON");
  }
}

std::string AlertmanagerClient::CreateSilence(const nlohmann::json& body) const {
  const auto j = Call("POST", "/api/v2/silences", body.dump(), "create the silence");
  if (!j.is_object() || !j.contains("silenceID") || !j["silenceID"].is_string()) {
    throw AlertmanagerError("bad_answer", "Alertmanager's answer has no silence ID");
  }
  return j["silenceID"].get<std::string>();
}

void AlertmanagerClient::ExpireSilence(const std::string& id) const {
  try {
    Call("DELETE", "/api/v2/silence/" + id, "", "expire the silence");
  } catch (const AlertmanagerError& e) {
    // 0.25 answers 404 for an unknown ID, older versions 500 "silence not found".
    if (e.kind == "not_found" || std::string(e.what()).find("not found") != std::string::npos) {
      throw AlertmanagerError("not_found", "no such silence: " + id);
    }
    throw;
  }
}

nlohmann::json AlertmanagerClient::Alerts(bool all) const {
  auto j = Call("GET", all ? "/api/v2/alerts" : "/api/v2/alerts?active=true&silenced=false&inhibited=false", "",
                "list the alerts");
  if (!j.is_array()) throw AlertmanagerError("bad_answer", "Alertmanager's alert list is not a list");
  return j;
}

nlohmann::json AlertmanagerClient::Silences() const {
  auto j = Call("GET", "/api/v2/silences", "", "list the silences");
  if (!j.is_array()) throw AlertmanagerError("bad_answer", "Alertmanager's silence list is not a list");
  return j;
}

}  // namespace relay
