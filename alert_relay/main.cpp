// xmppwatch_alert_relay: receives Alertmanager's webhook and delivers each notification as an
// XMPP message to the on-call account(s), through the chat service itself (logging in via
// the load balancer with the xmpp/ client library). When the chat service cannot take it,
// the notification goes to the fallback (a Slack-compatible webhook and/or a file), so an
// outage of the chat service never silences the alerts about it. See alert_relay/README.md.
#include <pthread.h>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>
#include <string>

#include "http_server.h"
#include "log.h"
#include "render.h"
#include "secret_file.h"
#include "sender.h"
#include "text_format.h"

namespace {

// The relay's own metrics, in prometheus-cpp's registry and written by common's exposition
// writer like every other daemon's (one writer of the text format in the project).
class Counters {
 public:
  Counters()
      : notifications_(prometheus::BuildCounter()
                           .Name("xmppwatch_alert_relay_notifications_total")
                           .Help("Notifications received, by how they were delivered.")
                           .Register(registry_)),
        xmpp_up_(prometheus::BuildGauge()
                     .Name("xmppwatch_alert_relay_xmpp_up")
                     .Help("Whether the last XMPP delivery succeeded (-1 before the first).")
                     .Register(registry_)
                     .Add({})) {
    // Every result from the start, so rate() sees the first notification of each kind.
    for (const char* r : {"xmpp", "fallback", "failed", "invalid"}) notifications_.Add({{"result", r}});
    xmpp_up_.Set(-1);
  }
  void Add(const std::string& result) { notifications_.Add({{"result", result}}).Increment(); }
  void SetXmppUp(bool up) { xmpp_up_.Set(up ? 1 : 0); }
  std::string Render() const { return xw::TextFormat(registry_.Collect()); }

 private:
  prometheus::Registry registry_;
  prometheus::Family<prometheus::Counter>& notifications_;
  prometheus::Gauge& xmpp_up_;
};

xw::HttpResponse Json(int status, std::string body) {
  return xw::HttpResponse{status, "application/json", std::move(body)};
}

struct Relay {
  relay::XmppSender& sender;
  const relay::FallbackOptions& fallback;
  std::size_t max_alerts;
  Counters& counters;

  xw::HttpResponse Alert(const xw::HttpRequest& req) {
    relay::Notification n;
    try {
      n = relay::ParseWebhook(req.body);
    } catch (const std::invalid_argument& e) {
      counters.Add("invalid");
      xw::log::Warn("rejected request", {{"err", e.what()}, {"remote", req.remote}});
      return xw::HttpResponse{400, "text/plain; charset=utf-8", std::string("bad request: ") + e.what() + "\n"};
    }
    const std::string text = relay::RenderText(n, max_alerts);
    const std::string title = relay::RenderTitle(n);
    const relay::Delivery d = sender.Send(text);
    counters.SetXmppUp(d.ok);
    if (d.ok) {
      counters.Add("xmpp");
      xw::log::Info("delivered over XMPP",
                    {{"title", title}, {"recipients", std::to_string(sender.options().recipients.size())}});
      return Json(200, "{\"delivered\":\"xmpp\"}\n");
    }
    xw::log::Warn("XMPP delivery failed", {{"title", title}, {"outcome", d.outcome}, {"err", d.detail}});
    const relay::Delivery f = relay::SendFallback(fallback, text, d.outcome + ": " + d.detail);
    if (f.ok) {
      counters.Add("fallback");
      xw::log::Info("delivered to the fallback", {{"title", title}, {"via", f.detail}});
      return Json(200, "{\"delivered\":\"fallback\",\"xmpp_outcome\":\"" + d.outcome + "\"}\n");
    }
    counters.Add("failed");
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
  relay::XmppOptions xmpp;
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
  app.add_option("--xmpp.to", xmpp.recipients, "bare JID to deliver to (repeat for several)")->required();
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
  xmpp.timeout = std::chrono::milliseconds(timeout_ms);
  fallback.timeout = xmpp.timeout;

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
  std::unique_ptr<relay::XmppSender> sender;
  try {
    sender = std::make_unique<relay::XmppSender>(xmpp);
  } catch (const std::exception& e) {
    std::cerr << "xmpp: " << e.what() << "\n";
    return 1;
  }

  Counters counters;
  Relay relay{*sender, fallback, max_alerts, counters};
  // Deliveries block (an XMPP login, a webhook POST): on the pool. Two workers: one delivery
  // runs at a time (XmppSender serialises), the other thread lets a second notification wait
  // without holding the I/O thread.
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
