#include "daemon/failover_metrics.h"

namespace xp {

namespace {

prometheus::MetricFamily Family(const std::string& name, const std::string& help, prometheus::MetricType type) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  return f;
}

void AddValue(prometheus::MetricFamily& f, double v, std::vector<prometheus::ClientMetric::Label> labels = {}) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  if (f.type == prometheus::MetricType::Counter)
    m.counter.value = v;
  else
    m.gauge.value = v;
  f.metric.push_back(std::move(m));
}

}  // namespace

FailoverMetrics::FailoverMetrics() : bounds_{0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300} {
  for (const char* s : {"sender", "receiver"}) by_session_[s].counts.assign(bounds_.size() + 1, 0);
}

void FailoverMetrics::Observe(const Outage& o) {
  std::lock_guard lock(mu_);
  Hist& h = by_session_[o.session];
  if (h.counts.empty()) h.counts.assign(bounds_.size() + 1, 0);
  std::size_t i = 0;
  while (i < bounds_.size() && o.duration > bounds_[i]) ++i;
  ++h.counts[i];
  ++h.count;
  h.sum += o.duration;
  h.last_outage = o.duration;
  h.last_detection = o.detection;
}

std::vector<prometheus::MetricFamily> FailoverMetrics::Collect(const FailoverStats& s) const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  auto hist = Family("xmpp_probe_failover_outage_seconds",
                     "Outages seen by the failover sessions: last success to first success after a break.",
                     MetricType::Histogram);
  auto last =
      Family("xmpp_probe_failover_last_outage_seconds", "Duration of the most recent outage.", MetricType::Gauge);
  auto detect = Family("xmpp_probe_failover_last_detection_seconds",
                       "How long the most recent break took to notice (last success to detection).", MetricType::Gauge);
  {
    std::lock_guard lock(mu_);
    for (const auto& [session, h] : by_session_) {
      prometheus::ClientMetric m;
      m.label = {{"session", session}};
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < bounds_.size(); ++i) {
        cumulative += h.counts[i];
        m.histogram.bucket.push_back({cumulative, bounds_[i]});
      }
      cumulative += h.counts.back();
      m.histogram.bucket.push_back({cumulative, std::numeric_limits<double>::infinity()});
      m.histogram.sample_count = h.count;
      m.histogram.sample_sum = h.sum;
      hist.metric.push_back(std::move(m));
      AddValue(last, h.last_outage, {{"session", session}});
      AddValue(detect, h.last_detection, {{"session", session}});
    }
  }
  out.push_back(std::move(hist));
  out.push_back(std::move(last));
  out.push_back(std::move(detect));
  auto up = Family("xmpp_probe_failover_session_up", "Whether the failover session is connected.", MetricType::Gauge);
  AddValue(up, s.sender_up ? 1 : 0, {{"session", "sender"}});
  AddValue(up, s.receiver_up ? 1 : 0, {{"session", "receiver"}});
  out.push_back(std::move(up));
  struct C {
    const char* name;
    const char* help;
    std::uint64_t value;
  };
  for (const C& c :
       {C{"xmpp_probe_failover_messages_sent_total", "Numbered messages sent.", s.sent},
        C{"xmpp_probe_failover_messages_acked_total", "Messages the server acknowledged (XEP-0198).", s.acked},
        C{"xmpp_probe_failover_messages_received_total", "Messages that reached the receiver.", s.received},
        C{"xmpp_probe_failover_messages_receipts_total", "Delivery receipts (XEP-0184) back at the sender.",
          s.receipts},
        C{"xmpp_probe_failover_messages_resent_total", "Messages resent after a fresh login for want of a receipt.",
          s.resent},
        C{"xmpp_probe_failover_messages_lost_total",
          "Acknowledged by the server but never delivered, even after resending.", s.lost},
        C{"xmpp_probe_failover_messages_duplicated_total", "Extra copies delivered.", s.duplicated},
        C{"xmpp_probe_failover_messages_delayed_total", "Delivered later than the delayed_after threshold.", s.delayed},
        C{"xmpp_probe_failover_messages_unconfirmed_total",
          "Never acknowledged nor delivered (the connection died with them in flight).", s.unconfirmed},
        C{"xmpp_probe_failover_reconnect_attempts_total", "Reconnection attempts during outages.",
          s.reconnect_attempts},
        C{"xmpp_probe_failover_resumes_total", "Reconnections that resumed the stream (XEP-0198).", s.resumes},
        C{"xmpp_probe_failover_fresh_logins_total", "Reconnections that needed a full login.", s.fresh_logins}}) {
    auto f = Family(c.name, c.help, MetricType::Counter);
    AddValue(f, static_cast<double>(c.value));
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace xp
