// xmppwatch_alert_relay: receives Alertmanager's webhook and delivers each notification as an
// XMPP message to the on-call account(s), through the chat service itself (logging in via
// the load balancer with the probe's client library). When the chat service cannot take it,
// the notification goes to the fallback (a Slack-compatible webhook and/or a file), so an
// outage of the chat service never silences the alerts about it. See alert_relay/README.md.
#include <csignal>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <mutex>
#include <thread>

#include <CLI/CLI.hpp>
#include <httplib.h>

#include <atomic>
#include <map>
#include <sstream>
#include <string>

#include "render.h"
#include "sender.h"

namespace {

std::mutex log_mu;

std::string Quote(const std::string& v) {
  if (!v.empty() && v.find_first_of(" \"=\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out + "\"";
}

void Log(const char* level, const std::string& msg, const std::map<std::string, std::string>& kv = {}) {
  char ts[32];
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::ostringstream line;
  line << "ts=" << ts << " level=" << level << " msg=" << Quote(msg);
  for (const auto& [k, v] : kv) line << " " << k << "=" << Quote(v);
  std::lock_guard<std::mutex> lock(log_mu);
  std::cerr << line.str() << std::endl;
}

struct Counters {
  std::mutex mu;
  std::map<std::string, unsigned long> notifications;  // result -> count
  std::atomic<int> xmpp_up{-1};                      // last delivery attempt: 1 ok, 0 failed, -1 none
  void Add(const std::string& result) {
    std::lock_guard<std::mutex> lock(mu);
    ++notifications[result];
  }
  std::string Render() {
    std::lock_guard<std::mutex> lock(mu);
    std::ostringstream o;
    o << "# HELP xmppwatch_alert_relay_notifications_total Notifications received, by how they were delivered.\n"
         "# TYPE xmppwatch_alert_relay_notifications_total counter\n";
    for (const char* r : {"xmpp", "fallback", "failed", "invalid"}) {
      o << "xmppwatch_alert_relay_notifications_total{result=\"" << r << "\"} " << notifications[r] << "\n";
    }
    o << "# HELP xmppwatch_alert_relay_xmpp_up Whether the last XMPP delivery succeeded (-1 before the first).\n"
         "# TYPE xmppwatch_alert_relay_xmpp_up gauge\n"
         "xmppwatch_alert_relay_xmpp_up "
      << xmpp_up.load() << "\n";
    return o.str();
  }
};

httplib::Server* g_server = nullptr;
void OnSignal(int) {
  if (g_server) g_server->stop();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Alertmanager webhook -> XMPP messages to on-call, with a fallback when the chat service is down"};
  std::string listen = "127.0.0.1:9099";
  relay::XmppOptions xmpp;
  relay::FallbackOptions fallback;
  int timeout_ms = 5000;
  std::size_t max_alerts = 20;
  app.add_option("--web.listen-address", listen, "host:port for POST /alert, /metrics, /-/healthy")->capture_default_str();
  app.add_option("--xmpp.target", xmpp.target, "host:port to connect to (the load balancer)")->capture_default_str();
  app.add_option("--xmpp.domain", xmpp.domain, "XMPP domain (stream 'to', SNI, certificate name)")->capture_default_str();
  app.add_option("--xmpp.user", xmpp.user, "local part of the relay's own account")->capture_default_str();
  app.add_option("--xmpp.password-file", xmpp.password_file, "file holding the relay account's password")->required();
  app.add_option("--xmpp.ca-file", xmpp.ca_file, "CA certificate to verify the server with (default: system store)");
  app.add_flag("--xmpp.insecure-skip-verify", xmpp.insecure, "do not verify the server certificate");
  app.add_option("--xmpp.to", xmpp.recipients, "bare JID to deliver to (repeat for several)")->required();
  app.add_option("--fallback.url", fallback.url, "Slack-compatible webhook URL used when XMPP delivery fails");
  app.add_option("--fallback.file", fallback.file, "file to append notifications to when XMPP delivery fails");
  app.add_option("--timeout-ms", timeout_ms, "deadline of one XMPP delivery (login + send + confirm)")
      ->capture_default_str()->check(CLI::Range(100, 60000));
  app.add_option("--max-alerts", max_alerts, "alerts written out per message (the rest are counted)")
      ->capture_default_str()->check(CLI::Range(1, 1000));
  CLI11_PARSE(app, argc, argv);
  xmpp.timeout = std::chrono::milliseconds(timeout_ms);
  fallback.timeout = xmpp.timeout;

  std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    std::cerr << "--web.listen-address: expected host:port, got '" << listen << "'\n";
    return 1;
  }
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  int port = 0;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (const std::exception&) {
    port = -1;
  }
  if (port <= 0 || port > 65535) {
    std::cerr << "--web.listen-address: bad port in '" << listen << "'\n";
    return 1;
  }

  std::unique_ptr<relay::XmppSender> sender;
  try {
    sender = std::make_unique<relay::XmppSender>(xmpp);
  } catch (const std::exception& e) {
    std::cerr << "xmpp: " << e.what() << "\n";
    return 1;
  }
  Counters counters;
  httplib::Server server;
  server.set_payload_max_length(4 << 20);
  server.set_read_timeout(5, 0);
  server.set_write_timeout(5, 0);

  server.Post("/alert", [&](const httplib::Request& req, httplib::Response& res) {
    relay::Notification n;
    try {
      n = relay::ParseWebhook(req.body);
    } catch (const std::invalid_argument& e) {
      counters.Add("invalid");
      Log("warn", "rejected request", {{"error", e.what()}, {"remote", req.remote_addr}});
      res.status = 400;
      res.set_content(std::string("bad request: ") + e.what() + "\n", "text/plain");
      return;
    }
    std::string text = relay::RenderText(n, max_alerts);
    std::string title = relay::RenderTitle(n);
    relay::Delivery d = sender->Send(text);
    counters.xmpp_up = d.ok ? 1 : 0;
    if (d.ok) {
      counters.Add("xmpp");
      Log("info", "delivered over XMPP", {{"title", title}, {"recipients", std::to_string(xmpp.recipients.size())}});
      res.set_content("{\"delivered\":\"xmpp\"}\n", "application/json");
      return;
    }
    Log("warn", "XMPP delivery failed", {{"title", title}, {"outcome", d.outcome}, {"error", d.detail}});
    relay::Delivery f = relay::SendFallback(fallback, text, d.outcome + ": " + d.detail);
    if (f.ok) {
      counters.Add("fallback");
      Log("info", "delivered to the fallback", {{"title", title}, {"via", f.detail}});
      res.set_content("{\"delivered\":\"fallback\",\"xmpp_outcome\":\"" + d.outcome + "\"}\n", "application/json");
      return;
    }
    counters.Add("failed");
    Log("error", "notification not delivered", {{"title", title}, {"xmpp", d.outcome}, {"fallback", f.detail}});
    // 5xx: Alertmanager retries the notification.
    res.status = 503;
    res.set_content("not delivered: xmpp " + d.outcome + "; fallback " + f.outcome + " " + f.detail + "\n",
                    "text/plain");
  });
  server.Get("/metrics", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(counters.Render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server.Get("/-/healthy", [](const httplib::Request&, httplib::Response& res) { res.set_content("OK\n", "text/plain"); });

  if (!server.bind_to_port(host, port)) {
    std::cerr << "cannot listen on " << listen << " (address in use or not local?)\n";
    return 1;
  }
  g_server = &server;
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);
  Log("info", "listening", {{"address", listen}, {"xmpp_target", xmpp.target}, {"fallback_url", fallback.url},
                           {"fallback_file", fallback.file}});
  server.listen_after_bind();
  Log("info", "stopped");
  return 0;
}
