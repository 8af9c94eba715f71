#include "metrics.h"

#include "text_format.h"

namespace relay {

Metrics::Metrics()
    : notifications_(prometheus::BuildCounter()
                         .Name("xmppwatch_alert_relay_notifications_total")
                         .Help("Notifications received, by how they were delivered.")
                         .Register(registry_)),
      xmpp_up_(prometheus::BuildGauge()
                   .Name("xmppwatch_alert_relay_xmpp_up")
                   .Help("Whether the last XMPP delivery succeeded (-1 before the first).")
                   .Register(registry_)
                   .Add({})),
      session_up_(prometheus::BuildGauge()
                      .Name("xmppwatch_alert_relay_xmpp_session_up")
                      .Help("Whether the relay's long-lived XMPP session is logged in now.")
                      .Register(registry_)
                      .Add({})),
      attempts_(prometheus::BuildCounter()
                    .Name("xmppwatch_alert_relay_xmpp_session_attempts_total")
                    .Help("Logins of the long-lived XMPP session, by result (ok, failed).")
                    .Register(registry_)),
      commands_(prometheus::BuildCounter()
                    .Name("xmppwatch_alert_relay_chatops_commands_total")
                    .Help("Chat-ops commands from allow-listed senders, by command and result (ok, error).")
                    .Register(registry_)),
      refused_(prometheus::BuildCounter()
                   .Name("xmppwatch_alert_relay_chatops_refused_total")
                   .Help("Chat messages from senders not on the allow-list (no action taken).")
                   .Register(registry_)
                   .Add({})),
      acks_expired_(prometheus::BuildCounter()
                        .Name("xmppwatch_alert_relay_ack_silences_expired_total")
                        .Help("Ack silences expired, by reason (resolved: the resolved notification; sweep: the "
                              "alert was gone from Alertmanager).")
                        .Register(registry_)) {
  // Every series from the start, so rate() sees the first event of each kind.
  for (const char* r : {"xmpp", "fallback", "failed", "invalid"}) notifications_.Add({{"result", r}});
  for (const char* r : {"ok", "failed"}) attempts_.Add({{"result", r}});
  for (const char* c : {"silence", "unsilence", "alerts", "ack", "help"}) {
    for (const char* r : {"ok", "error"}) commands_.Add({{"command", c}, {"result", r}});
  }
  for (const char* r : {"resolved", "sweep"}) acks_expired_.Add({{"reason", r}});
  xmpp_up_.Set(-1);
  session_up_.Set(0);
}

std::string Metrics::Render() const {
  return xw::TextFormat(registry_.Collect());
}

}  // namespace relay
