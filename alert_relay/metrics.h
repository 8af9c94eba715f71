// The relay's own metrics, in prometheus-cpp's registry and written by common's exposition
// writer like every other daemon's (one writer of the text format in the project). Every
// update is thread-safe: the webhook handlers, the XMPP session thread and the ack sweeper
// all count here.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <string>

namespace relay {

class Metrics {
 public:
  Metrics();
  void Notification(const std::string& result) { notifications_.Add({{"result", result}}).Increment(); }
  void SetLastDeliveryUp(bool up) { xmpp_up_.Set(up ? 1 : 0); }
  void SetSessionUp(bool up) { session_up_.Set(up ? 1 : 0); }
  void SessionAttempt(const std::string& result) { attempts_.Add({{"result", result}}).Increment(); }
  void Command(const std::string& command, const std::string& result) {
    commands_.Add({{"command", command}, {"result", result}}).Increment();
  }
  void Refused() { refused_.Increment(); }
  void AcksExpired(const std::string& reason, int n) { acks_expired_.Add({{"reason", reason}}).Increment(n); }
  std::string Render() const;

 private:
  prometheus::Registry registry_;
  prometheus::Family<prometheus::Counter>& notifications_;
  prometheus::Gauge& xmpp_up_;
  prometheus::Gauge& session_up_;
  prometheus::Family<prometheus::Counter>& attempts_;
  prometheus::Family<prometheus::Counter>& commands_;
  prometheus::Counter& refused_;
  prometheus::Family<prometheus::Counter>& acks_expired_;
};

}  // namespace relay
