#include "session.h"

#include <algorithm>

#include "log.h"
#include "secret_file.h"
#include "xmpp/outcome.h"
#include "xmpp/xml_stream.h"
#include "xmpp/xmpp_client.h"

namespace relay {
namespace {

using Clock = xp::Clock;
using std::chrono::milliseconds;

// How long one Receive() waits before the thread looks at the queue again: the most a
// notification waits for an idle session.
constexpr milliseconds kTick{100};
// A session that lived this long before it broke starts the back-off from the beginning.
constexpr std::chrono::seconds kStable{60};

Delivery Failed(std::string outcome, std::string detail) {
  Delivery d;
  d.outcome = std::move(outcome);
  d.detail = std::move(detail);
  return d;
}

}  // namespace

struct XmppSession::Job {
  enum class State { kQueued, kRunning, kDone, kAbandoned };
  std::string text;
  xp::Deadline deadline;
  State state = State::kQueued;
  Delivery result;
};

XmppSession::XmppSession(SessionOptions options, SessionHooks hooks)
    : options_(std::move(options)), hooks_(std::move(hooks)), rooms_(options_.rooms) {
  xp::TlsOptions tls;
  tls.ca_file = options_.xmpp.ca_file;
  tls.insecure = options_.xmpp.insecure;
  try {
    tls_ = std::make_shared<xp::TlsContext>(tls);
  } catch (const xp::ProbeError& e) {
    throw std::runtime_error(std::string("TLS set-up: ") + e.what());
  }
  last_failure_ = Failed("not_connected", "no session yet");
  // A resource of its own per process: two relays on one account (the stack's and a test's)
  // with one fixed resource would kick each other out at every reconnect.
  static const char* kHex = "0123456789abcdef";
  std::uniform_int_distribution<int> digit(0, 15);
  resource_ = "alert-relay-";
  for (int i = 0; i < 8; ++i) resource_ += kHex[digit(rng_)];
}

XmppSession::~XmppSession() {
  Stop();
}

void XmppSession::Start() {
  next_attempt_ = Clock::now();
  thread_ = std::thread([this] { Run(); });
}

void XmppSession::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Delivery XmppSession::Deliver(const std::string& text) {
  auto job = std::make_shared<Job>();
  job->text = text;
  job->deadline = Clock::now() + options_.xmpp.timeout;
  std::unique_lock<std::mutex> lock(mu_);
  if (stop_) return Failed("stopped", "the relay is stopping");
  if (queue_.size() >= options_.queue_limit) {
    return Failed("queue_full", std::to_string(queue_.size()) + " notifications wait for the XMPP session");
  }
  queue_.push_back(job);
  cv_.notify_all();
  const auto done = [&] { return job->state == Job::State::kDone; };
  cv_.wait_until(lock, job->deadline + milliseconds(250), done);
  if (job->state == Job::State::kQueued) {
    job->state = Job::State::kAbandoned;  // the session thread skips it: no late duplicate
    return Failed("timeout", "the XMPP session did not take the notification in time");
  }
  // Under way: it ends by its own deadline (every step of it has one).
  cv_.wait_until(lock, job->deadline + options_.xmpp.timeout, done);
  if (!done()) return Failed("timeout", "the XMPP delivery did not end in time");
  return job->result;
}

std::shared_ptr<XmppSession::Job> XmppSession::TakeJob() {
  std::lock_guard<std::mutex> lock(mu_);
  while (!queue_.empty()) {
    auto job = std::move(queue_.front());
    queue_.pop_front();
    if (job->state != Job::State::kQueued) continue;
    job->state = Job::State::kRunning;
    return job;
  }
  return nullptr;
}

void XmppSession::FailQueued(const Delivery& d) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& job : queue_) {
      if (job->state != Job::State::kQueued) continue;
      job->result = d;
      job->state = Job::State::kDone;
    }
    queue_.clear();
  }
  cv_.notify_all();
}

std::chrono::milliseconds XmppSession::NextBackoff() {
  // Exponential from backoff_min, capped, and jittered over [d/2, d] so relays (or a relay and
  // the probe) restarted together do not hammer a recovering server in step.
  const int exp = std::min(failures_, 16);
  const auto cap = std::min<long long>(options_.backoff_max.count(), options_.backoff_min.count() << exp);
  std::uniform_int_distribution<long long> jitter(cap / 2, std::max<long long>(cap / 2, cap));
  return milliseconds(jitter(rng_));
}

bool XmppSession::Connect(xp::Deadline deadline) {
  try {
    xp::ClientConfig cfg;
    cfg.target = options_.xmpp.target;
    cfg.domain = options_.xmpp.domain;
    cfg.user = options_.xmpp.user;
    try {
      cfg.password = xw::ReadSecretFile(options_.xmpp.password_file);  // re-read: a rotated password applies
    } catch (const xw::ConfigError& e) {
      throw xp::ProbeError(xp::Outcome::kConfigError, e.what());
    }
    cfg.resource = resource_;
    cfg.tls = tls_;
    auto client = std::make_unique<xp::XmppClient>(cfg);
    client->Login(deadline);
    // Available, so messages to alerts@DOMAIN reach this session (and not offline storage).
    // Without chat ops, priority -1: messages to the bare JID are never routed here (RFC 6121
    // 8.5.2), so a relay that only sends (a test's, a second one) does not take commands from
    // the one that answers them.
    client->Send(std::string("<presence><priority>") + (hooks_.command ? "1" : "-1") +
                     "</priority><status>xmppwatch alert relay: write \"help\"</status></presence>",
                 deadline);
    rooms_.Reset();
    rooms_.JoinAll(*client, deadline);
    client_ = std::move(client);
    up_since_ = last_traffic_ = Clock::now();
    if (hooks_.attempt) hooks_.attempt("ok");
    if (hooks_.up) hooks_.up(true);
    xw::log::Info("XMPP session up", {{"jid", client_->jid()}, {"target", options_.xmpp.target}});
    return true;
  } catch (const std::exception& e) {
    const auto* pe = dynamic_cast<const xp::ProbeError*>(&e);
    last_failure_ = Failed(pe ? std::string(xp::OutcomeName(pe->outcome())) : "error", e.what());
    ++failures_;
    const auto wait = NextBackoff();
    {
      std::lock_guard<std::mutex> lock(mu_);
      next_attempt_ = Clock::now() + wait;
    }
    if (hooks_.attempt) hooks_.attempt("failed");
    if (hooks_.up) hooks_.up(false);
    xw::log::Warn("XMPP login failed", {{"outcome", last_failure_.outcome},
                                        {"err", last_failure_.detail},
                                        {"retry_in_ms", std::to_string(wait.count())}});
    return false;
  }
}

void XmppSession::Disconnect(const std::string& outcome, const std::string& detail) {
  last_failure_ = Failed(outcome, detail);
  if (client_) client_->Close(Clock::now() + milliseconds(300));
  client_.reset();
  rooms_.Reset();
  if (Clock::now() - up_since_ > kStable) failures_ = 0;
  ++failures_;
  const auto wait = NextBackoff();
  {
    std::lock_guard<std::mutex> lock(mu_);
    next_attempt_ = Clock::now() + wait;
  }
  if (hooks_.up) hooks_.up(false);
  xw::log::Warn("XMPP session lost",
                {{"outcome", outcome}, {"err", detail}, {"reconnect_in_ms", std::to_string(wait.count())}});
}

void XmppSession::Run() {
  for (;;) {
    if (!client_) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_until(lock, next_attempt_, [&] { return stop_ || !queue_.empty(); });
        if (stop_) break;
      }
      // Due, or a notification waits: it gets one login attempt now (its own deadline).
      if (!Connect(Clock::now() + options_.xmpp.timeout)) FailQueued(last_failure_);
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) break;
    }
    if (auto job = TakeJob()) {
      DeliverNow(*job);
      continue;
    }
    try {
      if (auto e = client_->Receive(Clock::now() + kTick)) {
        last_traffic_ = Clock::now();
        Handle(*e);
      } else if (Clock::now() - last_traffic_ >= options_.keepalive) {
        client_->Ping(Clock::now() + options_.xmpp.timeout);
        last_traffic_ = Clock::now();
      }
    } catch (const xp::ProbeError& e) {
      Disconnect(std::string(xp::OutcomeName(e.outcome())), e.what());
    }
  }
  if (client_) client_->Close(Clock::now() + milliseconds(500));
  client_.reset();
  FailQueued(Failed("stopped", "the relay is stopping"));
}

void XmppSession::SendAll(const std::string& text, xp::Deadline deadline) {
  int n = 0;
  for (const auto& to : options_.xmpp.recipients) {
    client_->SendMessage(to, text, client_->NextId("alert") + "-" + std::to_string(n++), false, deadline);
  }
  for (const auto& room : rooms_.specs()) {
    if (!rooms_.joined(room.jid)) continue;
    client_->Send("<message type='groupchat' to='" + xp::XmlEscape(room.jid) + "' id='" + client_->NextId("room") +
                      "'><body>" + xp::XmlEscape(text) + "</body></message>",
                  deadline);
  }
  // The server answers in order: the ping's reply means the messages were routed (to the
  // recipients' sessions or offline storage, and to the rooms).
  client_->Ping(deadline);
}

void XmppSession::DeliverNow(Job& job) {
  Delivery result = last_failure_;
  // Twice at most: a session that died quietly since its last traffic is only found out now;
  // then one fresh login within the same deadline. A message may then arrive twice, never
  // not at all without the handler knowing.
  for (int attempt = 0; attempt < 2 && Clock::now() < job.deadline; ++attempt) {
    if (!client_ && !Connect(job.deadline)) {
      result = last_failure_;
      break;
    }
    const bool any_room = std::any_of(rooms_.specs().begin(), rooms_.specs().end(),
                                      [&](const RoomSpec& r) { return rooms_.joined(r.jid); });
    if (options_.xmpp.recipients.empty() && !any_room) {
      result = Failed("no_recipient", "no --xmpp.to, and no room joined");  // a ping alone proves nothing
      break;
    }
    const bool fresh = Clock::now() - up_since_ < std::chrono::seconds(1);
    const auto left = job.deadline - Clock::now();
    try {
      SendAll(job.text, fresh || attempt > 0 ? job.deadline : Clock::now() + left / 2);
      last_traffic_ = Clock::now();
      result = Delivery{true, "ok", ""};
      break;
    } catch (const xp::ProbeError& e) {
      Disconnect(std::string(xp::OutcomeName(e.outcome())), e.what());
      result = last_failure_;
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    job.result = result;
    job.state = Job::State::kDone;
  }
  cv_.notify_all();
}

void XmppSession::Handle(const xp::Element& e) {
  if (e.name == "presence") {
    rooms_.OnPresence(e);
    return;
  }
  const std::string type = e.Attr("type"), from = e.Attr("from");
  if (e.name == "iq") {
    // Pings are answered by the client; nothing else is offered (RFC 6120 8.4).
    if (type == "get" || type == "set") {
      client_->Send("<iq type='error' id='" + xp::XmlEscape(e.Attr("id")) + "' to='" + xp::XmlEscape(from) +
                        "'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                        "</error></iq>",
                    Clock::now() + options_.xmpp.timeout);
    }
    return;
  }
  if (e.name != "message" || !hooks_.command) return;
  const std::string body = e.ChildText("body");
  if (body.empty() || type == "error" || type == "headline") return;
  const RoomSpec* room = rooms_.Find(from);
  if (e.Child("delay", xp::kNsDelay)) {
    // Sent while the relay was offline (or room history): a "silence" typed an hour ago is
    // not run now. The sender can send it again.
    xw::log::Info("ignored a delayed message", {{"from", from}, {"type", type}});
    return;
  }
  if (type == "groupchat") {
    if (room == nullptr || Resource(from).empty() || Resource(from) == room->nick) return;
    const auto text = Rooms::Addressed(body, room->nick);
    if (!text) return;  // talk among the occupants, not for the relay
    const auto answer = hooks_.command(rooms_.RealJid(from), *text, "room " + room->jid);
    if (answer) Answer(e, room->jid, true, Resource(from) + ": " + *answer);
    return;
  }
  if (from.find('@') == std::string::npos) return;  // the server itself
  // A private message from a room occupant counts as its real JID, when the room says it.
  const std::string sender = room ? rooms_.RealJid(from) : from;
  const auto answer = hooks_.command(sender, body, room ? "private message in room " + room->jid : "chat");
  if (answer) Answer(e, from, false, *answer);
}

void XmppSession::Answer(const xp::Element& msg, const std::string& to, bool groupchat, const std::string& text) {
  const std::string thread = msg.ChildText("thread");
  client_->Send("<message type='" + std::string(groupchat ? "groupchat" : "chat") + "' to='" + xp::XmlEscape(to) +
                    "' id='" + client_->NextId("answer") + "'><body>" + xp::XmlEscape(text) + "</body>" +
                    (thread.empty() ? "" : "<thread>" + xp::XmlEscape(thread) + "</thread>") + "</message>",
                Clock::now() + options_.xmpp.timeout);
}

}  // namespace relay
