// The e2e module: the ledger's rules on fixed time points (no clock, no network), its
// configuration, and the runner against a fake server that routes messages between sessions
// or drops them. Conditions on the runner are awaited with generous bounds; nothing asserts a
// duration.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "login_script.h"
#include "probe/config.h"
#include "probe/e2e.h"
#include "probe/e2e_ledger.h"
#include "xmpp/outcome.h"
#include "xmpp/xml_stream.h"

namespace xp {
namespace {

using namespace std::chrono_literals;

const Clock::time_point t0{};

std::size_t BucketOf(double le) {
  const auto& b = E2eDeliveryBuckets();
  return static_cast<std::size_t>(std::find(b.begin(), b.end(), le) - b.begin());
}

TEST(E2eLedger, BucketsHoldTheSloThresholdExactly) {
  const auto& b = E2eDeliveryBuckets();
  EXPECT_NE(std::find(b.begin(), b.end(), 0.5), b.end());
  EXPECT_TRUE(std::is_sorted(b.begin(), b.end()));
  // Fine enough either side of 500 ms to see a drift before it crosses.
  EXPECT_GE(std::count_if(b.begin(), b.end(), [](double v) { return v < 0.5; }), 5);
  EXPECT_GE(std::count_if(b.begin(), b.end(), [](double v) { return v > 0.5 && v <= 2; }), 3);
}

TEST(E2eLedger, OnTimeDeliveryIsObservedAndTheBoundIsInclusive) {
  E2eLedger l({"xmpp1", "xmpp2"}, 10s);
  const auto a = l.Next(), b = l.Next(), c = l.Next();
  l.Sent("xmpp1", a, t0);
  l.Sent("xmpp2", b, t0);
  l.Sent("xmpp2", c, t0);
  EXPECT_EQ(l.InFlight(), 3u);
  ASSERT_EQ(l.Arrived("xmpp1", a, t0 + 500ms), std::optional<double>(0.5));
  ASSERT_TRUE(l.Arrived("xmpp2", b, t0 + 501ms));
  ASSERT_TRUE(l.Arrived("xmpp2", c, t0 + 10s));  // exactly the bound: still delivered
  const auto counts = l.Counts();
  const auto& x1 = counts.at("xmpp1");
  const auto& x2 = counts.at("xmpp2");
  EXPECT_EQ(x1.sent, 1u);
  EXPECT_EQ(x1.delivered, 1u);
  EXPECT_EQ(x1.buckets[BucketOf(0.5)], 1u);  // le="0.5" includes 0.5
  EXPECT_EQ(x2.delivered, 2u);
  EXPECT_EQ(x2.buckets[BucketOf(0.75)], 1u);
  EXPECT_EQ(x2.buckets[BucketOf(10)], 1u);
  EXPECT_DOUBLE_EQ(x2.latency_sum, 10.501);
  EXPECT_EQ(l.InFlight(), 0u);
}

TEST(E2eLedger, NotArrivedWithinTheBoundFailsAndALaterArrivalIsLateNotDelivered) {
  E2eLedger l({"xmpp1"}, 10s);
  const auto n = l.Next();
  l.Sent("xmpp1", n, t0);
  l.Expire(t0 + 10s);  // not past the bound yet
  EXPECT_EQ(l.InFlight(), 1u);
  l.Expire(t0 + 10001ms);
  EXPECT_EQ(l.InFlight(), 0u);
  EXPECT_FALSE(l.Arrived("xmpp1", n, t0 + 15s));
  EXPECT_FALSE(l.Arrived("xmpp1", n, t0 + 16s));  // another copy: a duplicate, not late again
  const auto c = l.Counts().at("xmpp1");
  EXPECT_EQ(c.failed_timeout, 1u);
  EXPECT_EQ(c.late, 1u);
  EXPECT_EQ(c.duplicated, 1u);
  EXPECT_EQ(c.delivered, 0u);
  for (auto v : c.buckets) EXPECT_EQ(v, 0u);
}

TEST(E2eLedger, ArrivalPastTheBoundBeforeExpireRanGetsTheSameVerdict) {
  E2eLedger l({"xmpp1"}, 10s);
  const auto n = l.Next();
  l.Sent("xmpp1", n, t0);
  EXPECT_FALSE(l.Arrived("xmpp1", n, t0 + 12s));
  const auto c = l.Counts().at("xmpp1");
  EXPECT_EQ(c.failed_timeout, 1u);
  EXPECT_EQ(c.late, 1u);
  EXPECT_EQ(c.delivered, 0u);
}

TEST(E2eLedger, DuplicatesWrongReceiversAndStrangersAreNotDeliveries) {
  E2eLedger l({"xmpp1", "xmpp2"}, 10s);
  const auto n = l.Next();
  l.Sent("xmpp1", n, t0);
  EXPECT_FALSE(l.Arrived("xmpp2", n, t0 + 1s));  // addressed to the other node
  EXPECT_TRUE(l.Arrived("xmpp1", n, t0 + 1s));
  EXPECT_FALSE(l.Arrived("xmpp1", n, t0 + 2s));
  EXPECT_FALSE(l.Arrived("xmpp1", 999, t0 + 2s));  // never sent
  EXPECT_FALSE(l.Arrived("nowhere", n, t0 + 2s));
  const auto c = l.Counts();
  EXPECT_EQ(c.at("xmpp1").delivered, 1u);
  EXPECT_EQ(c.at("xmpp1").duplicated, 1u);
  EXPECT_EQ(c.at("xmpp2").delivered, 0u);
  EXPECT_EQ(c.at("xmpp2").duplicated, 0u);
  EXPECT_EQ(c.count("nowhere"), 0u);
}

TEST(E2eLedger, NotSentCountsAsSentAndFailed) {
  E2eLedger l({"xmpp1"}, 10s);
  l.NotSent("xmpp1");
  l.NotSent("xmpp1");
  const auto c = l.Counts().at("xmpp1");
  EXPECT_EQ(c.sent, 2u);
  EXPECT_EQ(c.failed_not_sent, 2u);
  EXPECT_EQ(c.failed_timeout, 0u);
  EXPECT_EQ(l.InFlight(), 0u);
}

TEST(E2eRunner, ParsesOnlyItsOwnBodies) {
  std::uint64_t run = 0, n = 0;
  EXPECT_TRUE(E2eRunner::ParseBody("e2e 42 7", run, n));
  EXPECT_EQ(run, 42u);
  EXPECT_EQ(n, 7u);
  EXPECT_FALSE(E2eRunner::ParseBody("fo 42 7 1", run, n));
  EXPECT_FALSE(E2eRunner::ParseBody("e2e 42", run, n));
  EXPECT_FALSE(E2eRunner::ParseBody("e2e 42 7 extra", run, n));
}

const char* kE2eYaml =
    "modules:\n  e:\n    prober: e2e\n    target: 127.0.0.1:5222\n"
    "    account: {user: tx, password_file: /nonexistent}\n"
    "    e2e:\n      interval: 2s\n      continuous: true\n      receivers:\n"
    "        xmpp1: {user: rx1, password_file: /x, target: 127.0.0.2:5222}\n"
    "        xmpp2: {user: rx2, password_file: /x, target: 127.0.0.3:5222}\n";

TEST(E2eConfig, ParsesReceiversAndDefaults) {
  const auto m = ParseConfig(kE2eYaml, "test").modules.at("e");
  EXPECT_EQ(m.e2e.interval, 2s);
  EXPECT_EQ(m.e2e.lost_after, 10s);
  EXPECT_TRUE(m.e2e.continuous);
  ASSERT_EQ(m.e2e.receivers.size(), 2u);
  EXPECT_EQ(m.e2e.receivers.at("xmpp2").target, "127.0.0.3:5222");
}

TEST(E2eConfig, RejectsWhatCannotWork) {
  auto broken = [](const std::string& from, const std::string& to) {
    std::string y = kE2eYaml;
    y.replace(y.find(from), from.size(), to);
    return y;
  };
  EXPECT_THROW(ParseConfig(broken("      receivers:\n", "      bogus: 1\n      receivers:\n"), "t"),
               std::runtime_error);
  EXPECT_THROW(ParseConfig(broken("interval: 2s", "interval: 20s"), "t"), std::runtime_error);  // > lost_after
  EXPECT_THROW(ParseConfig(broken("interval: 2s", "interval: 10ms"), "t"), std::runtime_error);
  const std::string no_receivers = std::string(kE2eYaml).substr(0, std::string(kE2eYaml).find("      receivers:"));
  EXPECT_THROW(ParseConfig(no_receivers, "t"), std::runtime_error);
}

TEST(E2eConfig, BuiltInModuleSendsThroughTheLbToBothNodes) {
  const auto cfg = ParseConfig(DefaultConfigYaml("/run", "xmpp.test"), "built-in");
  const auto& m = cfg.modules.at("e2e");
  EXPECT_EQ(m.prober, "e2e");
  EXPECT_EQ(m.target, "127.0.0.1:5222");
  EXPECT_TRUE(m.e2e.continuous);
  EXPECT_EQ(m.e2e.receivers.at("xmpp1").target, "127.0.0.2:5222");
  EXPECT_EQ(m.e2e.receivers.at("xmpp2").target, "127.0.0.3:5222");
  EXPECT_NE(m.e2e.receivers.at("xmpp1").user, m.e2e.receivers.at("xmpp2").user);
}

// Routes <message/> by full JID between the sessions it serves, or drops them all.
class Router {
 public:
  std::atomic<bool> drop{false};

  void Serve(test::FakeConn& c, const std::string& user) {
    XmlStream in;
    in.Feed("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>");
    std::string jid;
    for (int idle = 0, i = 0; i < 20000 && idle < 50; ++i) {
      std::string data = c.ReadSome(100ms);
      if (data.empty()) {
        ++idle;  // closed, or silent for 5 s
        continue;
      }
      idle = 0;
      try {
        in.Feed(data);
      } catch (const ProbeError&) {
        break;
      }
      for (auto e = in.Next(); e; e = in.Next()) {
        if (e->name == "iq" && e->Child("bind", kNsBind)) {
          jid = user + "@good.example/" + e->Child("bind", kNsBind)->ChildText("resource");
          Register(jid, &c);
          c.Write("<iq type='result' id='" + e->Attr("id") + "'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>" +
                  jid + "</jid></bind></iq>");
        } else if (e->name == "iq") {
          c.Write("<iq type='result' id='" + e->Attr("id") + "' from='good.example'/>");
        } else if (e->name == "message" && !drop) {
          Forward(*e, jid);
        }
      }
    }
    std::lock_guard lock(mu_);
    if (auto it = sessions_.find(jid); it != sessions_.end() && it->second == &c) sessions_.erase(it);
  }

 private:
  void Register(const std::string& jid, test::FakeConn* c) {
    std::lock_guard lock(mu_);
    sessions_[jid] = c;
  }
  void Forward(const Element& e, const std::string& from) {
    const Element* b = e.Child("body");
    std::string out = "<message from='" + XmlEscape(from) + "' to='" + XmlEscape(e.Attr("to")) + "'><body>" +
                      XmlEscape(b ? b->text : "") + "</body></message>";
    std::lock_guard lock(mu_);
    if (auto it = sessions_.find(e.Attr("to")); it != sessions_.end()) it->second->Write(out);
  }
  std::mutex mu_;
  std::map<std::string, test::FakeConn*> sessions_;
};

struct RoutedE2e {
  std::string dir = [] {
    char tmpl[] = "/tmp/xp-e2e-XXXXXX";
    std::string d = mkdtemp(tmpl);
    std::ofstream(d + "/pw") << "secret\n";
    return d;
  }();
  Router router;
  test::LoginScript script = [this] {
    test::LoginScript s;
    s.after_auth = [this](test::FakeConn& c, const std::string& user) { router.Serve(c, user); };
    return s;
  }();
  test::FakeServer server{script};

  ModuleConfig Module(const std::string& lost_after) const {
    const std::string acct = "{user: %s, password_file: " + dir + "/pw, target: " + server.target() + "}";
    auto a = [&](const char* user) {
      std::string s = acct;
      return s.replace(s.find("%s"), 2, user);
    };
    return ParseConfig("modules:\n  e:\n    prober: e2e\n    timeout: 3s\n    target: " + server.target() +
                           "\n    xmpp: {domain: good.example, tls: plain}\n    account: " + a("tx") +
                           "\n    e2e:\n      interval: 100ms\n      lost_after: " + lost_after +
                           "\n      receivers:\n        n1: " + a("rx1") + "\n        n2: " + a("rx2") + "\n",
                       "test")
        .modules.at("e");
  }
  ~RoutedE2e() { std::filesystem::remove_all(dir); }
};

template <typename F>
bool Eventually(F done) {
  for (int i = 0; i < 400; ++i) {  // ~20 s
    if (done()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

TEST(E2eRunner, DeliversToEveryReceiverAndCountsIt) {
  RoutedE2e t;
  E2eRunner runner(t.Module("30s"));
  runner.Start();
  ASSERT_TRUE(Eventually([&] {
    auto s = runner.Snapshot();
    return s.receivers["n1"].delivered >= 5 && s.receivers["n2"].delivered >= 5;
  })) << runner.Snapshot().last_error;
  runner.Stop();
  auto s = runner.Snapshot();
  for (const char* r : {"n1", "n2"}) {
    const auto& c = s.receivers.at(r);
    EXPECT_EQ(c.failed_timeout + c.failed_not_sent, 0u) << r;
    EXPECT_EQ(c.duplicated, 0u) << r;
    std::uint64_t observed = 0;
    for (auto v : c.buckets) observed += v;
    EXPECT_EQ(observed, c.delivered) << r;  // every delivery is in the histogram
    EXPECT_LE(c.delivered, c.sent) << r;
  }
  EXPECT_TRUE(s.up.at("sender"));  // the last state seen before Stop
}

TEST(E2eRunner, MessagesTheServerDropsCountAsFailed) {
  RoutedE2e t;
  t.router.drop = true;
  E2eRunner runner(t.Module("200ms"));
  runner.Start();
  ASSERT_TRUE(Eventually([&] {
    auto s = runner.Snapshot();
    return s.receivers["n1"].failed_timeout >= 3 && s.receivers["n2"].failed_timeout >= 3;
  })) << runner.Snapshot().last_error;
  runner.Stop();
  auto s = runner.Snapshot();
  EXPECT_EQ(s.receivers.at("n1").delivered, 0u);
  EXPECT_EQ(s.receivers.at("n2").delivered, 0u);
}

TEST(E2eRunner, NoServerMeansSessionsDownAndNothingCounted) {
  char tmpl[] = "/tmp/xp-e2e-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  std::ofstream(dir + "/pw") << "secret\n";
  // Port 1 on loopback: refused at once. Nothing is sent before the sender's first login.
  auto m = ParseConfig(
               "modules:\n  e:\n    prober: e2e\n    timeout: 1s\n    target: 127.0.0.1:1\n"
               "    xmpp: {domain: good.example, tls: plain}\n    account: {user: tx, password_file: " +
                   dir +
                   "/pw}\n    e2e:\n      interval: 100ms\n      receivers:\n"
                   "        n1: {user: rx, password_file: " +
                   dir + "/pw}\n",
               "t")
               .modules.at("e");
  E2eRunner runner(m);
  runner.Start();
  ASSERT_TRUE(Eventually([&] { return !runner.Snapshot().last_error.empty(); }));
  runner.Stop();  // returns: no session waits past its bounds
  auto s = runner.Snapshot();
  EXPECT_FALSE(s.up.at("sender"));
  EXPECT_FALSE(s.up.at("n1"));
  EXPECT_EQ(s.receivers.at("n1").sent, 0u);
  EXPECT_NE(s.last_error.find("connect_refused"), std::string::npos) << s.last_error;
  std::filesystem::remove_all(dir);
}

TEST(E2eRunner, MissingPasswordFailsStartWithAConfigError) {
  auto m = ParseConfig(kE2eYaml, "t").modules.at("e");
  E2eRunner runner(m);
  try {
    runner.Start();
    FAIL() << "Start did not throw";
  } catch (const ProbeError& e) {
    EXPECT_EQ(e.outcome(), Outcome::kConfigError);
  }
}

}  // namespace
}  // namespace xp
