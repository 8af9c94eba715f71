// Message accounting for the failover module: which numbered messages the server
// acknowledged, which arrived, twice, late, or never.
#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <sstream>

#include "probe/failover.h"

namespace xp {

namespace {

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

constexpr auto kForgetAfter = std::chrono::seconds(10);
constexpr std::size_t kKeepOutages = 100;
constexpr std::size_t kKeepDelays = 2000;

}  // namespace

bool FailoverRunner::ParseBody(const std::string& body, std::uint64_t& run, std::uint64_t& n, std::int64_t& sent_ns) {
  std::istringstream in(body);
  std::string tag;
  if (!(in >> tag >> run >> n >> sent_ns) || tag != "fo") return false;
  std::string rest;
  return !(in >> rest);
}

void FailoverRunner::SenderTick(XmppClient& client, Deadline deadline) {
  SendResends(client, deadline);
  std::uint64_t n;
  std::int64_t sent_ns = NowNs();
  std::string to;
  {
    std::lock_guard lock(mu_);
    // Messages before the receiver's first login would measure our start-up, not the service.
    if (!receiver_ever_up_) return;
    n = ++next_n_;
    to = receiver_jid_;
    // Recorded before sending: on loopback the receiver can see it before SendMessage returns.
    Message& m = messages_[n];
    m.sent_ns = sent_ns;
    m.first_sent = Clock::now();
    m.epoch = sender_epoch_;
    ++stats_.sent;
  }
  client.SendMessage(to, "fo " + std::to_string(run_id_) + " " + std::to_string(n) + " " + std::to_string(sent_ns),
                     "fo-" + std::to_string(n), true, deadline);
  std::lock_guard lock(mu_);
  auto it = messages_.find(n);
  if (it != messages_.end()) it->second.seq = client.sm().enabled ? client.sm().outbound : 0;
}

void FailoverRunner::SenderFreshLogin(XmppClient& /*client*/, Deadline /*deadline*/) {
  // A new stream: anything without a receipt may be gone, even if the server acknowledged
  // it. It is sent again (a careful client does), numbered as before, so a copy that did get
  // through shows up as a duplicate rather than vanishing; SendResends does it once the
  // receiver is back (it is already back if its session never broke).
  std::lock_guard lock(mu_);
  ++sender_epoch_;
  resend_.clear();
  for (const auto& [n, m] : messages_) {
    if (!m.receipt && Clock::now() - m.first_sent < module_.failover.lost_after) resend_.push_back(n);
  }
  resend_after_login_ = receiver_logins_ + (stats_.receiver_up ? 0 : 1);
}

void FailoverRunner::SendResends(XmppClient& client, Deadline deadline) {
  std::vector<std::pair<std::uint64_t, std::int64_t>> resend;
  std::string to;
  {
    std::lock_guard lock(mu_);
    if (resend_.empty() || receiver_logins_ < resend_after_login_ || !stats_.receiver_up) return;
    to = receiver_jid_;
    for (std::uint64_t n : resend_) {
      auto it = messages_.find(n);
      if (it != messages_.end() && !it->second.receipt) resend.emplace_back(n, it->second.sent_ns);
    }
    resend_.clear();
  }
  for (const auto& [n, sent_ns] : resend) {
    client.SendMessage(to, "fo " + std::to_string(run_id_) + " " + std::to_string(n) + " " + std::to_string(sent_ns),
                       "fo-" + std::to_string(n), true, deadline);
    std::lock_guard lock(mu_);
    ++stats_.resent;
    auto it = messages_.find(n);
    if (it != messages_.end()) {
      it->second.seq = client.sm().enabled ? client.sm().outbound : 0;
      it->second.epoch = sender_epoch_;
    }
  }
}

void FailoverRunner::UpdateAcks(const XmppClient& client) {
  const SmState& sm = client.sm();
  bool settle = false;
  {
    std::lock_guard lock(mu_);
    if (sm.enabled) {
      std::uint32_t acked_upto = sm.unacked.empty() ? sm.outbound : sm.unacked.front().first - 1;
      for (auto it = messages_.rbegin(); it != messages_.rend(); ++it) {
        Message& m = it->second;
        if (m.acked) continue;
        if (m.epoch == sender_epoch_ && m.seq != 0 && m.seq <= acked_upto) {
          m.acked = true;
          ++stats_.acked;
        }
      }
    }
    if (Clock::now() - last_settle_ > std::chrono::seconds(1)) {
      last_settle_ = Clock::now();
      settle = true;
    }
  }
  if (settle) Settle(false);
}

void FailoverRunner::OnStanza(const Element& e, bool at_sender) {
  if (e.name != "message") return;
  if (at_sender) {
    const Element* rcv = e.Child("received", kNsReceipts);
    std::string id = rcv ? rcv->Attr("id") : std::string();
    if (id.rfind("fo-", 0) != 0) return;
    std::uint64_t n = std::strtoull(id.c_str() + 3, nullptr, 10);
    std::lock_guard lock(mu_);
    auto it = messages_.find(n);
    if (it != messages_.end() && !it->second.receipt) {
      it->second.receipt = true;
      ++stats_.receipts;
    }
    return;
  }
  const Element* body = e.Child("body");
  std::uint64_t run = 0, n = 0;
  std::int64_t sent_ns = 0;
  if (!body || !ParseBody(body->text, run, n, sent_ns) || run != run_id_) return;  // not ours, or stale
  double delay = static_cast<double>(NowNs() - sent_ns) / 1e9;
  std::lock_guard lock(mu_);
  auto it = messages_.find(n);
  if (it == messages_.end()) return;
  if (++it->second.received > 1) {
    ++stats_.duplicated;
    return;
  }
  ++stats_.received;
  if (delay > std::chrono::duration<double>(module_.failover.delayed_after).count()) ++stats_.delayed;
  stats_.max_delay = std::max(stats_.max_delay, delay);
  stats_.delays.push_back(delay);
  if (stats_.delays.size() > kKeepDelays) stats_.delays.erase(stats_.delays.begin());
}

void FailoverRunner::Settle(bool final_pass) {
  std::lock_guard lock(mu_);
  auto now = Clock::now();
  for (auto it = messages_.begin(); it != messages_.end();) {
    const Message& m = it->second;
    auto age = now - m.first_sent;
    if (m.received == 0 && (final_pass || age > module_.failover.lost_after)) {
      ++(m.acked ? stats_.lost : stats_.unconfirmed);
      it = messages_.erase(it);
    } else if (m.received > 0 && age > ((m.acked && m.receipt) ? kForgetAfter : module_.failover.lost_after)) {
      it = messages_.erase(it);
    } else {
      ++it;
    }
  }
}

void FailoverRunner::RecordOutage(const Outage& o) {
  {
    std::lock_guard lock(mu_);
    stats_.outages.push_back(o);
    if (stats_.outages.size() > kKeepOutages) stats_.outages.erase(stats_.outages.begin());
  }
  if (on_outage_) on_outage_(o);
}

FailoverStats FailoverRunner::Snapshot() {
  Settle(false);
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace xp
