#include "daemon/e2e_metrics.h"

#include <limits>

namespace xp {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily Family(const char* name, const char* help, MetricType type) {
  MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  return f;
}

void Add(MetricFamily& f, double v, std::vector<ClientMetric::Label> labels) {
  ClientMetric m;
  m.label = std::move(labels);
  if (f.type == MetricType::Counter)
    m.counter.value = v;
  else
    m.gauge.value = v;
  f.metric.push_back(std::move(m));
}

}  // namespace

std::vector<MetricFamily> E2eFamilies(const E2eSnapshot& s) {
  auto hist = Family("xmpp_probe_e2e_delivery_seconds",
                     "e2e messages delivered within the bound: sent through the load balancer to arrival at the "
                     "receiver on the labelled node.",
                     MetricType::Histogram);
  auto sent =
      Family("xmpp_probe_e2e_messages_sent_total",
             "e2e messages due to the receiver: sent, or due while the sender had no session.", MetricType::Counter);
  auto delivered =
      Family("xmpp_probe_e2e_messages_delivered_total",
             "e2e messages that arrived within the bound (xmpp_probe_e2e_bound_seconds).", MetricType::Counter);
  auto failed = Family("xmpp_probe_e2e_messages_failed_total",
                       "e2e messages that failed: reason timeout (not arrived within the bound) or not_sent (due "
                       "while the sender could not log in through the load balancer).",
                       MetricType::Counter);
  auto late = Family("xmpp_probe_e2e_messages_late_total", "e2e messages that arrived after being counted failed.",
                     MetricType::Counter);
  auto dup = Family("xmpp_probe_e2e_messages_duplicated_total", "Extra copies of e2e messages.", MetricType::Counter);
  const auto& bounds = E2eDeliveryBuckets();
  for (const auto& [receiver, c] : s.receivers) {
    const std::vector<ClientMetric::Label> l{{"receiver", receiver}};
    ClientMetric m;
    m.label = l;
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < bounds.size(); ++i) {
      cumulative += c.buckets[i];
      m.histogram.bucket.push_back({cumulative, bounds[i]});
    }
    cumulative += c.buckets.back();
    m.histogram.bucket.push_back({cumulative, std::numeric_limits<double>::infinity()});
    m.histogram.sample_count = c.delivered;
    m.histogram.sample_sum = c.latency_sum;
    hist.metric.push_back(std::move(m));
    Add(sent, static_cast<double>(c.sent), l);
    Add(delivered, static_cast<double>(c.delivered), l);
    Add(failed, static_cast<double>(c.failed_timeout), {{"receiver", receiver}, {"reason", "timeout"}});
    Add(failed, static_cast<double>(c.failed_not_sent), {{"receiver", receiver}, {"reason", "not_sent"}});
    Add(late, static_cast<double>(c.late), l);
    Add(dup, static_cast<double>(c.duplicated), l);
  }
  auto up = Family("xmpp_probe_e2e_session_up",
                   "Whether the e2e session is logged in: the sender (through the load balancer) or the receiver on "
                   "the labelled node.",
                   MetricType::Gauge);
  auto reconnects =
      Family("xmpp_probe_e2e_reconnects_total", "Logins of the e2e session after its first.", MetricType::Counter);
  for (const auto& [session, is_up] : s.up) {
    const bool sender = session == "sender";
    std::vector<ClientMetric::Label> l{{"role", sender ? "sender" : "receiver"}, {"session", session}};
    Add(up, is_up ? 1 : 0, l);
    const auto r = s.reconnects.find(session);
    Add(reconnects, r == s.reconnects.end() ? 0 : static_cast<double>(r->second), l);
  }
  auto inflight =
      Family("xmpp_probe_e2e_in_flight", "e2e messages sent and neither delivered nor failed yet.", MetricType::Gauge);
  Add(inflight, static_cast<double>(s.in_flight), {});
  auto bound =
      Family("xmpp_probe_e2e_bound_seconds",
             "A message not delivered within this (the module's lost_after) counts as failed.", MetricType::Gauge);
  Add(bound, s.bound_seconds, {});
  std::vector<MetricFamily> out;
  for (auto* f : {&hist, &sent, &delivered, &failed, &late, &dup, &up, &reconnects, &inflight, &bound})
    out.push_back(std::move(*f));
  return out;
}

}  // namespace xp
