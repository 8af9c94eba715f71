#include "render.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <set>
#include <stdexcept>

namespace relay {
namespace {

std::map<std::string, std::string> StringMap(const nlohmann::json& j, const char* what) {
  std::map<std::string, std::string> out;
  if (j.is_null()) return out;
  if (!j.is_object()) throw std::invalid_argument(std::string(what) + " is not an object");
  for (const auto& [k, v] : j.items()) {
    out[k] = v.is_string() ? v.get<std::string>() : v.dump();
  }
  return out;
}

std::string Get(const std::map<std::string, std::string>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? std::string() : it->second;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  return s;
}

std::string Where(const Alert& a) {
  std::string out;
  std::string host = Get(a.labels, "host"), instance = Get(a.labels, "instance");
  if (!host.empty()) {
    out = "host " + host;
  } else if (!instance.empty()) {
    out = instance;
  } else {
    std::string cluster = Get(a.labels, "cluster");
    out = "cluster " + (cluster.empty() ? Get(a.labels, "job") : cluster);
  }
  if (!instance.empty() && !host.empty()) out += " (" + instance + ")";
  static const std::pair<const char*, const char*> kExtra[] = {
      {"server", ", LB server "}, {"member", ", member "},   {"mountpoint", ", "},
      {"module", ", probe "},     {"session", ", session "}, {"master_host", ", replicating from "}};
  for (const auto& [label, prefix] : kExtra) {
    std::string v = Get(a.labels, label);
    if (!v.empty()) out += prefix + v;
  }
  return out;
}

std::string UrlQuery(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Seconds since the epoch of an RFC 3339 UTC time ("...Z"), fractions included; -1 if unparsable.
double ParseTime(const std::string& t) {
  std::tm tm{};
  const char* rest = strptime(t.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr) return -1;
  double frac = 0;
  if (*rest == '.') frac = std::strtod(rest, nullptr);  // ".512Z" -> 0.512
  return static_cast<double>(timegm(&tm)) + frac;
}

// Go's time.Duration format, as Alertmanager's template prints (.EndsAt.Sub .StartsAt):
// "3m20s", "1h0m5s", "45s", "1m0.5s".
std::string GoDuration(double seconds) {
  if (seconds < 0) seconds = 0;
  long whole = static_cast<long>(seconds);
  double frac = seconds - static_cast<double>(whole);
  long h = whole / 3600, m = whole % 3600 / 60, s = whole % 60;
  char secs[32];
  if (frac > 1e-9) {
    std::snprintf(secs, sizeof secs, "%.9g", static_cast<double>(s) + frac);
  } else {
    std::snprintf(secs, sizeof secs, "%ld", s);
  }
  std::string out;
  if (h) out += std::to_string(h) + "h";
  if (h || m) out += std::to_string(m) + "m";
  return out + secs + "s";
}

void RenderAlert(const Alert& a, std::string& out) {
  bool firing = a.status != "resolved";
  out += firing ? "FIRING: " : "RESOLVED: ";
  std::string summary = Get(a.annotations, "summary");
  out += summary.empty() ? Get(a.labels, "alertname") : summary;
  out += "\nWhere: " + Where(a);
  out += "\nSince: " + FormatTime(a.starts_at);
  if (!firing && !a.ends_at.empty()) {
    out += ", resolved " + FormatTime(a.ends_at);
    double start = ParseTime(a.starts_at), end = ParseTime(a.ends_at);
    if (start >= 0 && end >= start) out += " (lasted " + GoDuration(end - start) + ")";
  }
  out += "\n";
  std::string desc = Get(a.annotations, "description");
  if (!desc.empty()) out += "What: " + desc + "\n";
  std::string runbook = Get(a.annotations, "runbook_url");
  if (!runbook.empty()) out += "Runbook: " + runbook + "\n";
}

}  // namespace

Notification ParseWebhook(std::string_view body) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("body is not JSON: ") + e.what());
  }
  if (!j.is_object()) throw std::invalid_argument("body is not a JSON object");
  if (!j.contains("alerts") || !j["alerts"].is_array()) {
    throw std::invalid_argument("not an Alertmanager webhook payload: no \"alerts\" array");
  }
  Notification n;
  n.status = j.value("status", "");
  n.receiver = j.value("receiver", "");
  n.external_url = j.value("externalURL", "");
  n.common_labels = StringMap(j.value("commonLabels", nlohmann::json()), "commonLabels");
  for (const auto& ja : j["alerts"]) {
    if (!ja.is_object()) throw std::invalid_argument("an element of \"alerts\" is not an object");
    Alert a;
    a.status = ja.value("status", "firing");
    a.labels = StringMap(ja.value("labels", nlohmann::json()), "labels");
    a.annotations = StringMap(ja.value("annotations", nlohmann::json()), "annotations");
    a.starts_at = ja.value("startsAt", "");
    a.ends_at = ja.value("endsAt", "");
    if (ja.contains("fingerprint") && ja["fingerprint"].is_string())
      a.fingerprint = ja["fingerprint"].get<std::string>();
    n.alerts.push_back(std::move(a));
  }
  if (n.status.empty()) {
    bool any_firing = false;
    for (const auto& a : n.alerts) any_firing |= a.status != "resolved";
    n.status = any_firing ? "firing" : "resolved";
  }
  return n;
}

std::string FormatTime(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS at least, UTC ("Z") as Alertmanager sends it.
  if (t.size() >= 19 && t[4] == '-' && t[10] == 'T' && t.back() == 'Z') {
    std::string out(t.substr(0, 19));
    out[10] = ' ';
    return out + " UTC";
  }
  return std::string(t);
}

std::string RenderTitle(const Notification& n) {
  std::size_t firing = 0;
  for (const auto& a : n.alerts) firing += a.status != "resolved";
  std::string alertname = Get(n.common_labels, "alertname");
  if (alertname.empty() && !n.alerts.empty()) alertname = Get(n.alerts.front().labels, "alertname");
  std::string out = "[" + Upper(n.status.empty() ? "firing" : n.status);
  if (n.status == "firing") out += ":" + std::to_string(firing);
  out += "] " + alertname;
  std::string severity = Get(n.common_labels, "severity");
  if (!severity.empty()) out += " (" + severity + ")";
  std::string host = Get(n.common_labels, "host");
  if (host.empty()) {
    std::vector<std::string> hosts;
    std::set<std::string> seen;
    for (const auto& a : n.alerts) {
      if (firing && a.status == "resolved") continue;
      std::string h = Get(a.labels, "host");
      if (!h.empty() && seen.insert(h).second) hosts.push_back(h);
    }
    for (std::size_t i = 0; i < hosts.size(); ++i) host += (i ? ", " : "") + hosts[i];
  }
  if (!host.empty()) out += " on " + host;
  std::string cluster = Get(n.common_labels, "cluster");
  if (!cluster.empty()) out += " [" + cluster + "]";
  return out;
}

std::string RenderText(const Notification& n, std::size_t max_alerts) {
  std::string out = RenderTitle(n) + "\n";
  std::size_t written = 0, firing = 0;
  // Firing first, then resolved, as in the template.
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& a : n.alerts) {
      bool is_resolved = a.status == "resolved";
      if (is_resolved != (pass == 1)) continue;
      firing += !is_resolved;
      if (written++ >= max_alerts) continue;  // counted, not written
      out += "\n";
      RenderAlert(a, out);
    }
  }
  if (written > max_alerts) out += "\n... and " + std::to_string(written - max_alerts) + " more\n";
  std::string alertname = Get(n.common_labels, "alertname");
  if (firing && !n.external_url.empty() && !alertname.empty()) {
    out +=
        "Silence: " + n.external_url + "/#/silences/new?filter=" + UrlQuery("{alertname=\"" + alertname + "\"}") + "\n";
  }
  return out;
}

}  // namespace relay
