// Chat ops against a fake Alertmanager (common/'s HTTP server on a loopback port): the
// allow-list, what each command sends, and how the API's answers and failures become chat
// answers ("Alertmanager unreachable", "no such silence"). The real Alertmanager is in
// tests/stack/test_chatops.py.
#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "chatops.h"
#include "http_server.h"
#include "listen_address.h"

namespace relay {
namespace {

constexpr const char* kKnown = "11111111-2222-3333-4444-555555555555";
constexpr const char* kAck = "99999999-2222-3333-4444-555555555555";

// Serves the few API paths chat ops uses and records what it was sent.
class FakeAlertmanager {
 public:
  explicit FakeAlertmanager(int post_status = 200) : server_(Options()) {
    server_.Handle("/api/v2/silences", {.method = xw::HttpMethod::kPost, .body_limit = 1 << 20},
                   [this, post_status](const xw::HttpRequest& r) {
                     Record("POST " + r.path, r.body);
                     if (post_status != 200) return Json(post_status, R"("silence invalid: bad matcher")");
                     return Json(200, R"({"silenceID":"new-silence-id"})");
                   });
    server_.Handle("/api/v2/silences", [this](const xw::HttpRequest& r) {
      Record("GET " + r.path, "");
      return Json(200, silences);
    });
    server_.Handle("/api/v2/alerts", [this](const xw::HttpRequest& r) {
      Record("GET " + r.path + "?" + r.Param("silenced") + r.Param("inhibited"), "");
      return Json(200, alerts);
    });
    for (const char* id : {kKnown, kAck}) {
      server_.Handle(std::string("/api/v2/silence/") + id, {.method = xw::HttpMethod::kDelete},
                     [this](const xw::HttpRequest& r) {
                       Record("DELETE " + r.path, "");
                       return Json(200, "");
                     });
    }
    server_.Start();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }
  std::vector<std::pair<std::string, std::string>> calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  bool Called(const std::string& what) {
    for (const auto& [c, body] : calls()) {
      if (c == what) return true;
    }
    return false;
  }

  std::string alerts = R"([{"fingerprint": "0123456789abcdef",
      "labels": {"alertname": "DiskFull", "instance": "node1", "severity": "critical"}}])";
  std::string silences = "[]";

 private:
  static xw::HttpServerOptions Options() {
    xw::HttpServerOptions o;
    o.address = xw::ParseListenAddress("127.0.0.1:0");
    return o;
  }
  static xw::HttpResponse Json(int status, std::string body) {
    return xw::HttpResponse{status, "application/json", std::move(body)};
  }
  void Record(std::string what, std::string body) {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.emplace_back(std::move(what), std::move(body));
  }
  std::mutex mu_;
  std::vector<std::pair<std::string, std::string>> calls_;
  xw::HttpServer server_;
};

struct Counts {
  std::vector<std::string> commands;
  int refused = 0;
};

ChatOps Make(const std::string& url, Counts& counts) {
  ChatOpsOptions o;
  o.allow = {"OnCall@xmpp.test"};
  o.alertmanager_url = url;
  o.timeout = std::chrono::milliseconds(2000);
  o.ack_max = std::chrono::hours(24);
  return ChatOps(
      o, {.counted = [&](const std::string& c, const std::string& r) { counts.commands.push_back(c + " " + r); },
          .refused = [&] { ++counts.refused; }});
}

TEST(ChatOps, OthersGetNothingAndNoCall) {
  FakeAlertmanager am;
  Counts n;
  ChatOps ops = Make(am.url(), n);
  EXPECT_FALSE(ops.Handle("carol@xmpp.test/laptop", "silence 1h alertname=DiskFull", "chat"));
  EXPECT_FALSE(ops.Handle("", "alerts", "room r@conference.xmpp.test"));  // real JID unknown
  EXPECT_FALSE(ops.Handle("oncall@xmpp.test.evil/x", "alerts", "chat"));
  EXPECT_EQ(n.refused, 3);
  EXPECT_TRUE(n.commands.empty());
  EXPECT_TRUE(am.calls().empty());
}

TEST(ChatOps, SilenceSendsMatchersCreatorAndAnswersTheId) {
  FakeAlertmanager am;
  Counts n;
  ChatOps ops = Make(am.url(), n);
  const auto answer = ops.Handle("oncall@xmpp.test/phone", "silence 2h alertname=DiskFull instance=~node.*", "chat");
  ASSERT_TRUE(answer);
  EXPECT_NE(answer->find("new-silence-id"), std::string::npos) << *answer;
  EXPECT_NE(answer->find("Silenced for 2h"), std::string::npos) << *answer;
  const auto calls = am.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].first, "POST /api/v2/silences");
  const auto body = nlohmann::json::parse(calls[0].second);
  EXPECT_EQ(body["createdBy"], "oncall@xmpp.test");
  EXPECT_NE(body["comment"].get<std::string>().find("from chat"), std::string::npos);
  EXPECT_EQ(body["matchers"].size(), 2u);
  EXPECT_EQ(body["matchers"][1],
            nlohmann::json::parse(R"({"name":"instance","value":"node.*","isRegex":true,"isEqual":true})"));
  EXPECT_EQ(n.commands, std::vector<std::string>{"silence ok"});
}

TEST(ChatOps, BadArgumentsNeverReachAlertmanager) {
  FakeAlertmanager am;
  Counts n;
  ChatOps ops = Make(am.url(), n);
  const auto answer = ops.Handle("oncall@xmpp.test", "silence 1h", "chat");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->rfind("error: ", 0), 0u) << *answer;
  EXPECT_NE(answer->find("usage: silence"), std::string::npos) << *answer;
  EXPECT_TRUE(am.calls().empty());
  EXPECT_EQ(ops.Handle("oncall@xmpp.test", "what?", "chat"), HelpText());
  EXPECT_EQ(n.commands, (std::vector<std::string>{"silence error", "help ok"}));
}

TEST(ChatOps, RefusalsAndMissingSilencesAreClearAnswers) {
  FakeAlertmanager am(400);
  Counts n;
  ChatOps ops = Make(am.url(), n);
  auto answer = ops.Handle("oncall@xmpp.test", "silence 1h a=", "chat");
  ASSERT_TRUE(answer);
  EXPECT_EQ(*answer, "error: Alertmanager refused to create the silence: silence invalid: bad matcher");
  answer = ops.Handle("oncall@xmpp.test", "unsilence 00000000-0000-0000-0000-000000000000", "chat");
  EXPECT_EQ(*answer, "error: no such silence: 00000000-0000-0000-0000-000000000000");
  answer = ops.Handle("oncall@xmpp.test", std::string("unsilence ") + kKnown, "chat");
  EXPECT_EQ(*answer, std::string("Silence ") + kKnown + " expired.");
  EXPECT_TRUE(am.Called(std::string("DELETE /api/v2/silence/") + kKnown));
}

TEST(ChatOps, UnreachableAlertmanager) {
  int port = 0;
  {
    FakeAlertmanager gone;  // a port that was just free, and is closed again
    port = std::stoi(gone.url().substr(gone.url().rfind(':') + 1));
  }
  Counts n;
  ChatOps ops = Make("http://127.0.0.1:" + std::to_string(port), n);
  const auto answer = ops.Handle("oncall@xmpp.test", "alerts", "chat");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->rfind("error: Alertmanager unreachable", 0), 0u) << *answer;
  EXPECT_EQ(n.commands, std::vector<std::string>{"alerts error"});
}

TEST(ChatOps, AlertsListsActiveOnly) {
  FakeAlertmanager am;
  Counts n;
  ChatOps ops = Make(am.url(), n);
  EXPECT_EQ(ops.Handle("oncall@xmpp.test", "alerts", "chat"),
            "1 alert firing:\n0123456789abcdef DiskFull (critical) on node1");
  EXPECT_TRUE(am.Called("GET /api/v2/alerts?falsefalse"));
}

TEST(ChatOps, AckSilencesExactlyThatAlertAndIsFoundAgainByItsComment) {
  FakeAlertmanager am;
  Counts n;
  ChatOps ops = Make(am.url(), n);
  auto answer = ops.Handle("oncall@xmpp.test", "ack 0123456789ABCDEF", "chat");
  ASSERT_TRUE(answer);
  EXPECT_NE(answer->find("Acknowledged 0123456789abcdef DiskFull"), std::string::npos) << *answer;
  nlohmann::json body;
  for (const auto& [c, b] : am.calls()) {
    if (c == "POST /api/v2/silences") body = nlohmann::json::parse(b);
  }
  ASSERT_TRUE(body.is_object());
  EXPECT_EQ(body["matchers"].size(), 3u);  // every label, name=value
  for (const auto& m : body["matchers"]) EXPECT_FALSE(m["isRegex"].get<bool>());
  EXPECT_EQ(body["comment"].get<std::string>().rfind(AckCommentPrefix("0123456789abcdef"), 0), 0u);
  EXPECT_EQ(body["createdBy"], "oncall@xmpp.test");

  answer = ops.Handle("oncall@xmpp.test", "ack 00000000000000ff", "chat");
  EXPECT_EQ(answer->rfind("error: no alert with fingerprint 00000000000000ff", 0), 0u) << *answer;

  // The silence as Alertmanager lists it afterwards: a second ack names it, a resolved
  // notification expires it, another alert's resolution does not.
  am.silences = std::string(R"([{"id": ")") + kAck + R"(", "status": {"state": "active"}, "comment": ")" +
                AckCommentPrefix("0123456789abcdef") + R"( acknowledged"},
      {"id": "other", "status": {"state": "expired"}, "comment": ")" +
                AckCommentPrefix("0123456789abcdef") + R"( old"}])";
  answer = ops.Handle("oncall@xmpp.test", "ack 0123456789abcdef", "chat");
  EXPECT_NE(answer->find(std::string("Already acknowledged")), std::string::npos) << *answer;
  EXPECT_EQ(ops.ExpireAcks({"fedcba9876543210"}), 0);
  EXPECT_EQ(ops.ExpireAcks({"0123456789abcdef"}), 1);
  EXPECT_TRUE(am.Called(std::string("DELETE /api/v2/silence/") + kAck));
}

TEST(ChatOps, SweepExpiresAcksOfAlertsThatAreGone) {
  FakeAlertmanager am;
  Counts n;
  ChatOps ops = Make(am.url(), n);
  am.silences = std::string(R"([{"id": ")") + kAck + R"(", "status": {"state": "active"}, "comment": ")" +
                AckCommentPrefix("0123456789abcdef") + R"( x"}])";
  EXPECT_EQ(ops.SweepAcks(), 0);  // its alert is still there
  am.alerts = "[]";
  EXPECT_EQ(ops.SweepAcks(), 1);
  EXPECT_TRUE(am.Called(std::string("DELETE /api/v2/silence/") + kAck));
}

}  // namespace
}  // namespace relay
