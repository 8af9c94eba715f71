// xmppwatch_alert_relay: receives Alertmanager's webhook and delivers each notification as an
// XMPP message to the on-call account(s) and rooms, through the chat service itself (one
// long-lived session via the load balancer, session.*). When the chat service cannot take it,
// the notification goes to the fallback (a Slack-compatible webhook and/or a file), so an
// outage of the chat service never silences the alerts about it. On-call can answer in the
// chat: silence, unsilence, alerts, ack (chatops.*). See alert_relay/README.md.
#include <pthread.h>

#include <CLI/CLI.hpp>
#include <condition_variable>
#include <csignal>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "chatops.h"
#include "http_server.h"
#include "log.h"
#include "metrics.h"
#include "render.h"
#include "secret_file.h"
#include "sender.h"
#include "session.h"

namespace {

xw::HttpResponse Json(int status, std::string body) {
  return xw::HttpResponse{status, "application/json", std::move(body)};
}

// Expires ack silences whose alert Alertmanager no longer holds, every `interval`, on its
// own thread so it runs while XMPP is down too.
class AckSweeper {
 public:
  AckSweeper(relay::ChatOps& ops, relay::Metrics& metrics, std::chrono::seconds interval)
      : thread_([this, &ops, &metrics, interval] {
          std::unique_lock<std::mutex> lock(mu_);
          while (!cv_.wait_for(lock, interval, [this] { return stop_; })) {
            lock.unlock();
            if (const int n = ops.SweepAcks(); n > 0) metrics.AcksExpired("sweep", n);
            lock.lock();
          }
        }) {}
  ~AckSweeper() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

struct Relay {
  relay::XmppSession& sender;
  const relay::FallbackOptions& fallback;
  std::size_t max_alerts;
  relay::Metrics& counters;
  relay::ChatOps& chatops;

  // A resolved notification ends the `ack` silences of its alerts. (Alertmanager mutes the
  // resolved notification of a silenced alert, so the sweeper is what usually ends them; this
  // path covers receivers whose silences differ and makes the end immediate when it comes.)
  void EndAcks(const relay::Notification& n) {
    if (!chatops.enabled()) return;
    std::vector<std::string> resolved;
    for (const auto& a : n.alerts) {
      if (a.status == "resolved" && !a.fingerprint.empty()) resolved.push_back(a.fingerprint);
    }
    if (const int k = chatops.ExpireAcks(resolved); k > 0) counters.AcksExpired("resolved", k);
  }

  xw::HttpResponse Alert(const xw::HttpRequest& req) {
    relay::Notification n;
    try {
      n = relay::ParseWebhook(req.body);
    } catch (const std::invalid_argument& e) {
      counters.Notification("invalid");
      xw::log::Warn("rejected request", {{"err", e.what()}, {"remote", req.remote}});
      return xw::HttpResponse{400, "text/plain; charset=utf-8", std::string("bad request: ") + e.what() + "\n"};
    }
    const std::string text = relay::RenderText(n, max_alerts);
    const std::string title = relay::RenderTitle(n);
    EndAcks(n);
    const relay::Delivery d = sender.Deliver(text);
    counters.SetLastDeliveryUp(d.ok);
    if (d.ok) {
      counters.Notification("xmpp");
      xw::log::Info("delivered over XMPP",
                    {{"title", title}, {"recipients", std::to_string(sender.options().xmpp.recipients.size())}});
      return Json(200, "{\"delivered\":\"xmpp\"}\n");
    }
    xw::log::Warn("XMPP delivery failed", {{"title", title}, {"outcome", d.outcome}, {"err", d.detail}});
    const relay::Delivery f = relay::SendFallback(fallback, text, d.outcome + ": " + d.detail);
    if (f.ok) {
      counters.Notification("fallback");
      xw::log::Info("delivered to the fallback", {{"title", title}, {"via", f.detail}});
      return Json(200, "{\"delivered\":\"fallback\",\"xmpp_outcome\":\"" + d.outcome + "\"}\n");
    }
    counters.Notification("failed");
    xw::log::Error("notification not delivered", {{"title", title}, {"xmpp", d.outcome}, {"fallback", f.detail}});
    // 5xx: Alertmanager retries. Outcomes only: the details name hosts and files.
    return xw::HttpResponse{503, "text/plain; charset=utf-8",
                            "not delivered: xmpp " + d.outcome + "; fallback " + f.outcome + "\n"};
  }
};

}  // namespace

static int Main(int argc, char** argv) {
  // Blocked before any thread starts, so every thread inherits the mask and the signals are
  // taken only by sigwait() below: a SIGTERM can never interrupt a delivery half-way.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  CLI::App app{"Alertmanager webhook -> XMPP messages to on-call, with a fallback when the chat service is down"};
  std::string listen = "127.0.0.1:9099";
  std::string web_config_file, url_file, old_url, log_level = "info";
  relay::SessionOptions session;
  relay::XmppOptions& xmpp = session.xmpp;
  relay::ChatOpsOptions chatops;
  std::vector<std::string> rooms;
  std::string ack_max = "7d", sweep_every = "1m";
  relay::FallbackOptions fallback;
  int timeout_ms = 5000;
  std::size_t max_alerts = 20;
  app.add_option("--web.listen-address", listen, "host:port for POST /alert, /metrics, /-/healthy")
      ->capture_default_str();
  app.add_option("--web.config.file", web_config_file,
                 "exporter-toolkit web config (TLS, basic auth, headers); re-read on SIGHUP");
  app.add_option("--xmpp.target", xmpp.target, "host:port to connect to (the load balancer)")->capture_default_str();
  app.add_option("--xmpp.domain", xmpp.domain, "XMPP domain (stream 'to', SNI, certificate name)")
      ->capture_default_str();
  app.add_option("--xmpp.user", xmpp.user, "local part of the relay's own account")->capture_default_str();
  app.add_option("--xmpp.password-file", xmpp.password_file, "file holding the relay account's password")->required();
  app.add_option("--xmpp.ca-file", xmpp.ca_file, "CA certificate to verify the server with (default: system store)");
  app.add_flag("--xmpp.insecure-skip-verify", xmpp.insecure, "do not verify the server certificate");
  app.add_option("--xmpp.to", xmpp.recipients, "bare JID to deliver to (repeat for several)");
  app.add_option("--xmpp.room", rooms,
                 "ROOM@conference.DOMAIN[/NICK]: join it (creating it if needed) and post notifications there too "
                 "(repeatable; nick default: the --xmpp.user)");
  app.add_option("--chatops.allow", chatops.allow,
                 "bare JID allowed to run chat commands (repeatable; none: chat ops off)");
  app.add_option("--alertmanager.url", chatops.alertmanager_url, "Alertmanager for chat ops (http://, loopback)")
      ->capture_default_str();
  app.add_option("--chatops.ack-max", ack_max, "longest an `ack` silence lasts when its alert never resolves")
      ->capture_default_str();
  app.add_option("--chatops.ack-sweep-interval", sweep_every,
                 "how often ack silences of alerts Alertmanager no longer holds are expired")
      ->capture_default_str();
  app.add_option("--fallback.url-file", url_file,
                 "file (mode 0600) holding the Slack-compatible webhook URL used when XMPP delivery fails");
  // Gone: a URL on the command line is readable by every local user. Kept as a hidden option
  // so using it gives a clear message instead of CLI11's "unexpected argument" (which would
  // print the URL).
  auto* old_url_opt = app.add_option("--fallback.url", old_url)->group("");
  app.add_option("--fallback.ca-file", fallback.ca_file,
                 "CA certificate for an https fallback URL (default: system store)");
  app.add_option("--fallback.file", fallback.file, "file to append notifications to when XMPP delivery fails");
  app.add_option("--timeout-ms", timeout_ms, "deadline of one XMPP delivery (login + send + confirm)")
      ->capture_default_str()
      ->check(CLI::Range(100, 60000));
  app.add_option("--max-alerts", max_alerts, "alerts written out per message (the rest are counted)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--log.level", log_level, "debug, info, warn or error")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (old_url_opt->count() > 0) {
    std::cerr << "--fallback.url is no longer accepted: the webhook URL is a secret. Write it to a file readable "
                 "only by the relay (chmod 600) and pass --fallback.url-file FILE.\n";
    return 1;
  }
  if (xmpp.recipients.empty() && rooms.empty()) {
    std::cerr << "--xmpp.to or --xmpp.room is required: notifications need somewhere to go\n";
    return 1;
  }
  xmpp.timeout = std::chrono::milliseconds(timeout_ms);
  fallback.timeout = xmpp.timeout;
  chatops.timeout = xmpp.timeout;
  std::chrono::seconds sweep_interval{60};
  try {
    for (const auto& r : rooms) session.rooms.push_back(relay::ParseRoom(r, xmpp.user));
    chatops.ack_max = relay::ParseDuration(ack_max);
    sweep_interval = relay::ParseDuration(sweep_every);
    if (chatops.alertmanager_url.rfind("http://", 0) != 0) {
      throw std::invalid_argument("--alertmanager.url: only http:// (Alertmanager on loopback)");
    }
  } catch (const std::invalid_argument& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }

  xw::HttpServerOptions http;
  try {
    xw::log::SetLevel(xw::log::ParseLevel(log_level));
    http.address = xw::ParseListenAddress(listen);
    http.web = xw::LoadWebConfig(web_config_file);
    if (!url_file.empty()) {
      fallback.url = xw::ReadSecretFile(url_file, xw::SecretFileMode::kOwnerOnly);
      if (fallback.url.rfind("http://", 0) != 0 && fallback.url.rfind("https://", 0) != 0) {
        throw xw::ConfigError("--fallback.url-file " + url_file + ": not an http:// or https:// URL");
      }
    }
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  relay::Metrics counters;
  relay::ChatOps ops(chatops, {.counted = [&](const std::string& c, const std::string& r) { counters.Command(c, r); },
                               .refused = [&] { counters.Refused(); }});
  relay::SessionHooks hooks;
  hooks.up = [&](bool up) { counters.SetSessionUp(up); };
  hooks.attempt = [&](const std::string& r) { counters.SessionAttempt(r); };
  if (ops.enabled()) {
    hooks.command = [&](const std::string& from, const std::string& text, const std::string& where) {
      return ops.Handle(from, text, where);
    };
  }
  std::unique_ptr<relay::XmppSession> sender;
  try {
    sender = std::make_unique<relay::XmppSession>(session, hooks);
  } catch (const std::exception& e) {
    std::cerr << "xmpp: " << e.what() << "\n";
    return 1;
  }
  std::optional<AckSweeper> sweeper;
  if (ops.enabled()) sweeper.emplace(ops, counters, sweep_interval);
  sender->Start();
  Relay relay{*sender, fallback, max_alerts, counters, ops};
  // Deliveries block (waiting for the session thread, a webhook POST): on the pool. Two
  // workers: the session thread sends one notification at a time, the other worker lets a
  // second notification wait without holding the I/O thread.
  http.blocking_workers = 2;
  xw::HttpServer server(http);
  server.Handle("/alert", {.method = xw::HttpMethod::kPost, .body_limit = 4 << 20, .blocking = true},
                [&](const xw::HttpRequest& req) { return relay.Alert(req); });
  server.Handle("/metrics", [&](const xw::HttpRequest&) {
    return xw::HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", counters.Render()};
  });
  server.Handle("/-/healthy", [](const xw::HttpRequest&) { return xw::HttpResponse{200, "text/plain", "OK\n"}; });
  try {
    server.Start();
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  xw::log::Info("relay ready", {{"address", listen},
                                {"xmpp_target", xmpp.target},
                                {"rooms", std::to_string(session.rooms.size())},
                                {"chatops", ops.enabled() ? std::to_string(chatops.allow.size()) + " allowed" : "off"},
                                {"fallback_url", fallback.url.empty() ? "none" : "configured"},
                                {"fallback_file", fallback.file.empty() ? "none" : fallback.file}});
  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig != SIGHUP) break;
    if (web_config_file.empty()) {
      xw::log::Info("SIGHUP: no --web.config.file to reload");
      continue;
    }
    try {
      server.ReloadWebConfig(web_config_file);
    } catch (const std::exception& e) {
      xw::log::Error("web config reload failed, keeping the previous one", {{"err", e.what()}});
    }
  }
  server.Stop();
  sender->Stop();
  xw::log::Info("stopped");
  return 0;
}

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {  // CLI11 and iostreams can throw outside Main's own handlers
    std::cerr << "xmppwatch_alert_relay: fatal: " << e.what() << "\n";
    return 1;
  }
}
