// The failover module against a fake server that routes messages between sessions, supports
// XEP-0198, and can crash: the accounting (acks, receipts, resends, losses) without the stack.
// Conditions are awaited with generous bounds; nothing asserts a duration.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "login_script.h"
#include "probe/config.h"
#include "probe/failover.h"
#include "xmpp/outcome.h"
#include "xmpp/xml_stream.h"

namespace xp {
namespace {

using namespace std::chrono_literals;

// Routes <message/> by full JID between the connections it serves. "Crash" resets every
// connection and forgets every session, so resumption fails like on a restarted node.
class Router {
 public:
  std::atomic<bool> swallow_next{false};  // ack the next message but never deliver it

  void Serve(test::FakeConn& c, const std::string& user) {
    XmlStream in;
    in.Feed("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>");
    std::string jid;
    std::uint32_t h = 0;
    bool sm = false;
    const int generation = crashed_generation_;
    int idle = 0;
    for (int i = 0; i < 20000; ++i) {
      std::string data = c.ReadSome(100ms);
      if (data.empty()) {
        // Closed, crashed, or silent for 5 s: this connection is done.
        if (crashed_generation_ != generation || ++idle > 50) break;
        continue;
      }
      idle = 0;
      try {
        in.Feed(data);
      } catch (const ProbeError&) {
        break;
      }
      for (auto e = in.Next(); e; e = in.Next()) {
        if (sm && e->ns == kNsClient) ++h;
        if (e->name == "iq" && e->Child("bind", kNsBind)) {
          jid = user + "@good.example/" + e->Child("bind", kNsBind)->ChildText("resource");
          Register(jid, &c);
          c.Write("<iq type='result' id='" + e->Attr("id") + "'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>" +
                  jid + "</jid></bind></iq>");
        } else if (e->name == "iq") {
          c.Write("<iq type='result' id='" + e->Attr("id") + "' from='good.example'/>");
        } else if (e->Is("enable", kNsSm)) {
          sm = true;
          c.Write("<enabled xmlns='urn:xmpp:sm:3' id='sm1' resume='true'/>");
        } else if (e->Is("resume", kNsSm)) {
          c.Write(
              "<failed xmlns='urn:xmpp:sm:3'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>");
        } else if (e->Is("r", kNsSm)) {
          c.Write("<a xmlns='urn:xmpp:sm:3' h='" + std::to_string(h) + "'/>");
        } else if (e->name == "message") {
          if (e->Child("body") && swallow_next.exchange(false)) {
            // Acknowledge, then die with the message: the case a careful client must cover.
            c.Write("<a xmlns='urn:xmpp:sm:3' h='" + std::to_string(h) + "'/>");
            Crash();
            break;
          }
          Forward(*e, jid);
        }
      }
    }
    Unregister(jid, &c);
  }

  void Crash() {
    std::lock_guard lock(mu_);
    ++crashed_generation_;
    for (auto& [jid, conn] : sessions_) conn->Kill();
    sessions_.clear();
  }

  int crashes() const { return crashed_generation_; }

 private:
  void Register(const std::string& jid, test::FakeConn* c) {
    std::lock_guard lock(mu_);
    sessions_[jid] = c;
    for (const auto& m : offline_[jid]) c->Write(m);
    offline_.erase(jid);
  }
  void Unregister(const std::string& jid, test::FakeConn* c) {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(jid);
    if (it != sessions_.end() && it->second == c) sessions_.erase(it);
  }
  void Forward(const Element& e, const std::string& from) {
    std::string out = "<message from='" + XmlEscape(from) + "' to='" + XmlEscape(e.Attr("to")) + "' id='" +
                      XmlEscape(e.Attr("id")) + "'>";
    if (const Element* b = e.Child("body")) out += "<body>" + XmlEscape(b->text) + "</body>";
    if (e.Child("request", kNsReceipts)) out += "<request xmlns='urn:xmpp:receipts'/>";
    if (const Element* r = e.Child("received", kNsReceipts)) {
      out += "<received xmlns='urn:xmpp:receipts' id='" + XmlEscape(r->Attr("id")) + "'/>";
    }
    out += "</message>";
    std::lock_guard lock(mu_);
    auto it = sessions_.find(e.Attr("to"));
    if (it != sessions_.end())
      it->second->Write(out);
    else
      offline_[e.Attr("to")].push_back(out);  // like ejabberd: stored until the JID is back
  }

  std::mutex mu_;
  std::map<std::string, test::FakeConn*> sessions_;
  std::map<std::string, std::vector<std::string>> offline_;
  std::atomic<int> crashed_generation_{0};
};

struct Fixture {
  std::string dir;
  Fixture() {
    char tmpl[] = "/tmp/xp-failover-XXXXXX";
    dir = mkdtemp(tmpl);
    std::ofstream(dir + "/pw") << "secret\n";
  }
  ~Fixture() { std::filesystem::remove_all(dir); }
  ModuleConfig Module(const std::string& target) const {
    auto cfg =
        ParseConfig("modules:\n  f:\n    prober: failover\n    timeout: 3s\n    target: " + target +
                        "\n    xmpp: {domain: good.example, tls: plain}\n"
                        "    account: {user: alice, password_file: " +
                        dir +
                        "/pw}\n"
                        "    peer: {user: bob, password_file: " +
                        dir +
                        "/pw}\n"
                        "    failover: {interval: 20ms, ping_timeout: 1s, backoff_initial: 20ms, backoff_max: 200ms}\n",
                    "test");
    return cfg.modules["f"];
  }
};

// A fake server whose logged-in sessions the Router serves, and a failover runner aimed at it.
struct RoutedFailover {
  Fixture fx;
  Router router;
  test::LoginScript script = [this] {
    test::LoginScript s;
    s.after_auth = [this](test::FakeConn& c, const std::string& user) { router.Serve(c, user); };
    return s;
  }();
  test::FakeServer server{script};
  FailoverRunner runner{fx.Module(server.target()), ""};
};

// Polls until `done` holds or ~20 s pass; returns whether it held.
template <typename F>
bool Eventually(F done) {
  for (int i = 0; i < 400; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

TEST(FailoverModule, SteadyStateDeliversEverything) {
  RoutedFailover t;
  auto& runner = t.runner;
  runner.Start();
  ASSERT_TRUE(Eventually([&] { return runner.Snapshot().receipts >= 10; })) << runner.Snapshot().last_error;
  runner.Stop(2s);
  FailoverStats s = runner.Snapshot();
  EXPECT_EQ(s.lost, 0u);
  EXPECT_EQ(s.duplicated, 0u);
  EXPECT_EQ(s.received, s.sent);
  EXPECT_GE(s.acked, 10u);
  EXPECT_TRUE(s.outages.empty());
}

TEST(FailoverModule, MessageAckedThenLostInACrashIsResentNotLost) {
  RoutedFailover t;
  auto& runner = t.runner;
  auto& router = t.router;
  runner.Start();
  ASSERT_TRUE(Eventually([&] { return runner.Snapshot().receipts >= 5; })) << runner.Snapshot().last_error;
  router.swallow_next = true;
  ASSERT_TRUE(Eventually([&] { return router.crashes() == 1; }));
  // Both sessions notice, log in afresh (resumption is refused), and the sender resends.
  ASSERT_TRUE(Eventually([&] {
    auto s = runner.Snapshot();
    return s.outages.size() >= 2 && s.sender_up && s.receiver_up && s.resent >= 1;
  })) << runner.Snapshot().last_error;
  runner.Stop(3s);
  FailoverStats s = runner.Snapshot();
  EXPECT_EQ(s.lost, 0u);
  EXPECT_GE(s.resent, 1u);
  EXPECT_GE(s.fresh_logins, 2u);
  EXPECT_EQ(s.resumes, 0u);
  for (const auto& o : s.outages) {
    EXPECT_GE(o.duration, o.detection);
    EXPECT_GE(o.reconnect_attempts, 1);
  }
}

}  // namespace
}  // namespace xp
