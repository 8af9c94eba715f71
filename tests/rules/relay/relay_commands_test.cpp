// Chat-ops parsing and the Alertmanager request bodies (alert_relay/commands.*,
// alertmanager.*, room.*): what on-call types, what the relay makes of it, and what it would
// send to Alertmanager. No network.
#include <gtest/gtest.h>

#include "alertmanager.h"
#include "commands.h"
#include "room.h"

namespace relay {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(Duration, UnitsAndSums) {
  EXPECT_EQ(ParseDuration("30m"), minutes(30));
  EXPECT_EQ(ParseDuration("1h"), hours(1));
  EXPECT_EQ(ParseDuration("2d"), hours(48));
  EXPECT_EQ(ParseDuration("1w"), hours(24 * 7));
  EXPECT_EQ(ParseDuration("1h30m"), minutes(90));
  EXPECT_EQ(ParseDuration("90s"), seconds(90));
}

TEST(Duration, Refused) {
  for (const char* bad : {"", "1", "h", "1x", "-1h", "1.5h", "30s", "31d", "99999999h", "1h 2m", "1H"}) {
    EXPECT_THROW(ParseDuration(bad), std::invalid_argument) << bad;
  }
  EXPECT_EQ(ParseDuration("30d"), kMaxSilence);
}

TEST(Duration, Formats) {
  EXPECT_EQ(FormatDuration(minutes(90)), "1h30m");
  EXPECT_EQ(FormatDuration(hours(48)), "2d");
  EXPECT_EQ(FormatDuration(seconds(0)), "0s");
}

TEST(Matcher, Operators) {
  const Matcher eq = ParseMatcher("alertname=DiskFull");
  EXPECT_EQ(eq.name, "alertname");
  EXPECT_EQ(eq.value, "DiskFull");
  EXPECT_TRUE(eq.equal);
  EXPECT_FALSE(eq.regex);
  const Matcher ne = ParseMatcher("severity!=info");
  EXPECT_FALSE(ne.equal);
  EXPECT_FALSE(ne.regex);
  EXPECT_EQ(ne.value, "info");
  const Matcher re = ParseMatcher("instance=~node[12].*");
  EXPECT_TRUE(re.equal);
  EXPECT_TRUE(re.regex);
  EXPECT_EQ(re.value, "node[12].*");
  const Matcher nre = ParseMatcher("job!~probe|relay");
  EXPECT_FALSE(nre.equal);
  EXPECT_TRUE(nre.regex);
  EXPECT_EQ(nre.value, "probe|relay");
  // "=" inside the value belongs to the value.
  EXPECT_EQ(ParseMatcher("a==b").value, "=b");
  EXPECT_EQ(ParseMatcher("empty=").value, "");
}

TEST(Matcher, Quoted) {
  EXPECT_EQ(ParseMatcher(R"(summary="disk full")").value, "disk full");
  EXPECT_EQ(ParseMatcher(R"(x="a \"b\" c")").value, R"(a "b" c)");
  EXPECT_EQ(ParseMatcher(R"(x="a \"b\" c")").ToString(), R"(x="a \"b\" c")");
  EXPECT_EQ(ParseMatcher("x=~a.b").ToString(), "x=~a.b");
  EXPECT_THROW(ParseMatcher(R"(x=a"b)"), std::invalid_argument);
}

TEST(Matcher, Refused) {
  for (const char* bad : {"", "=x", "1a=b", "alertname", "a<b", "a~b", "a-b=c", "\"a\"=b"}) {
    EXPECT_THROW(ParseMatcher(bad), std::invalid_argument) << bad;
  }
}

TEST(Words, QuotesKeepBlanks) {
  EXPECT_EQ(SplitWords("  silence  1h   a=b  "), (std::vector<std::string>{"silence", "1h", "a=b"}));
  EXPECT_EQ(SplitWords(R"(silence 1h x="a b" y=c)"), (std::vector<std::string>{"silence", "1h", R"(x="a b")", "y=c"}));
  EXPECT_THROW(SplitWords(R"(silence 1h x="a b)"), std::invalid_argument);
}

TEST(Command, Silence) {
  const Command c = ParseCommand("silence 1h alertname=DiskFull instance=node1");
  ASSERT_EQ(c.kind, Command::Kind::kSilence);
  EXPECT_TRUE(c.error.empty());
  EXPECT_EQ(c.duration, hours(1));
  ASSERT_EQ(c.matchers.size(), 2u);
  EXPECT_EQ(c.matchers[0].ToString(), "alertname=DiskFull");
  EXPECT_EQ(c.matchers[1].ToString(), "instance=node1");
  EXPECT_EQ(ParseCommand("SILENCE 30m job=~x").kind, Command::Kind::kSilence);
}

TEST(Command, SilenceErrorsSayWhatIsWrong) {
  Command c = ParseCommand("silence 1h");
  EXPECT_EQ(c.kind, Command::Kind::kSilence);
  EXPECT_NE(c.error.find("at least one matcher"), std::string::npos) << c.error;
  c = ParseCommand("silence forever alertname=X");
  EXPECT_NE(c.error.find("30m, 1h"), std::string::npos) << c.error;
  c = ParseCommand("silence 1h alertname");
  EXPECT_NE(c.error.find("name=value"), std::string::npos) << c.error;
  c = ParseCommand("silence 90d a=b");
  EXPECT_NE(c.error.find("at most 30d"), std::string::npos) << c.error;
  c = ParseCommand(R"(silence 1h a="b)");
  EXPECT_NE(c.error.find("unterminated"), std::string::npos) << c.error;
}

TEST(Command, UnsilenceAlertsAck) {
  Command c = ParseCommand("unsilence 6A0E8E3C-1f2b-4c4d-9e0f-0123456789ab");
  EXPECT_EQ(c.kind, Command::Kind::kUnsilence);
  EXPECT_EQ(c.id, "6a0e8e3c-1f2b-4c4d-9e0f-0123456789ab");
  EXPECT_FALSE(ParseCommand("unsilence ../../api").error.empty());
  EXPECT_FALSE(ParseCommand("unsilence").error.empty());
  EXPECT_FALSE(ParseCommand("unsilence a b").error.empty());
  EXPECT_EQ(ParseCommand("alerts").kind, Command::Kind::kAlerts);
  EXPECT_FALSE(ParseCommand("alerts now").error.empty());
  c = ParseCommand("ack 0123456789abcdef");
  EXPECT_EQ(c.kind, Command::Kind::kAck);
  EXPECT_EQ(c.id, "0123456789abcdef");
  EXPECT_FALSE(ParseCommand("ack 0123456789abcdef0").error.empty());  // 17 digits
  EXPECT_FALSE(ParseCommand("ack xyz").error.empty());
}

TEST(Command, AnythingElseIsHelp) {
  for (const char* text : {"", "   ", "help", "hello?", "silences", "sudo silence 1h a=b", "\x01\x02"}) {
    const Command c = ParseCommand(text);
    EXPECT_EQ(c.kind, Command::Kind::kHelp) << text;
    EXPECT_TRUE(c.error.empty()) << text;
  }
  const std::string help = HelpText();
  for (const char* word : {"alerts", "silence DURATION MATCHER", "unsilence", "ack FINGERPRINT", "help"}) {
    EXPECT_NE(help.find(word), std::string::npos) << word;
  }
}

TEST(AlertmanagerBody, Silence) {
  const auto start = std::chrono::system_clock::time_point(seconds(1796630400)) + std::chrono::milliseconds(5);
  const auto body = SilenceBody(ParseCommand("silence 1h alertname=DiskFull instance!~node[12]").matchers, start,
                                start + hours(1), "oncall@xmpp.test", "from chat");
  const nlohmann::json want = nlohmann::json::parse(R"({
    "matchers": [{"name": "alertname", "value": "DiskFull", "isRegex": false, "isEqual": true},
                 {"name": "instance", "value": "node[12]", "isRegex": true, "isEqual": false}],
    "startsAt": "2026-12-07T08:00:00.005Z", "endsAt": "2026-12-07T09:00:00.005Z",
    "createdBy": "oncall@xmpp.test", "comment": "from chat"})");
  EXPECT_EQ(body, want) << body.dump(2);
}

TEST(AlertmanagerBody, ExactMatchersOfAnAlert) {
  const auto labels = nlohmann::json::parse(R"({"alertname": "DiskFull", "instance": "node1", "severity": "page"})");
  std::string all;
  for (const auto& m : ExactMatchers(labels)) {
    EXPECT_TRUE(m.equal);
    EXPECT_FALSE(m.regex);  // a regex would match other alerts too
    all += m.ToString() + " ";
  }
  EXPECT_EQ(all, "alertname=DiskFull instance=node1 severity=page ");
}

TEST(Alerts, OneLineEachBounded) {
  const auto alerts = nlohmann::json::parse(R"([
    {"fingerprint": "aaaa000011112222", "labels": {"alertname": "DiskFull", "severity": "critical", "instance": "node1"}},
    {"fingerprint": "bbbb000011112222", "labels": {"alertname": "NoSeverity"}},
    {"fingerprint": "cccc000011112222", "labels": {"alertname": "Long", "instance": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}])");
  EXPECT_EQ(FormatAlerts(alerts, 20, 160),
            "3 alerts firing:\naaaa000011112222 DiskFull (critical) on node1\nbbbb000011112222 NoSeverity\n"
            "cccc000011112222 Long on xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
  const std::string cut = FormatAlerts(alerts, 1, 30);
  EXPECT_EQ(cut, "3 alerts firing:\naaaa000011112222 DiskFull (...\n... and 2 more");
  EXPECT_EQ(FormatAlerts(nlohmann::json::array()), "No alerts firing.");
  EXPECT_EQ(FormatAlerts(nlohmann::json::parse(R"([{"fingerprint": "f", "labels": {"alertname": "a\nb"}}])")),
            "1 alert firing:\nf a\\x0ab");
}

TEST(Jid, BareAndPrintable) {
  EXPECT_EQ(BareJid("OnCall@XMPP.test/Phone"), "oncall@xmpp.test");
  EXPECT_EQ(BareJid("oncall@xmpp.test"), "oncall@xmpp.test");
  EXPECT_EQ(Printable("a\x1b[31mb\n"), "a\\x1b[31mb\\x0a");
  EXPECT_EQ(Printable(std::string(300, 'x'), 10), std::string(10, 'x') + "...");
}

TEST(Room, Spec) {
  RoomSpec r = ParseRoom("OnCall@conference.xmpp.test", "alerts");
  EXPECT_EQ(r.jid, "oncall@conference.xmpp.test");
  EXPECT_EQ(r.nick, "alerts");
  r = ParseRoom("oncall@conference.xmpp.test/Alert Bot", "alerts");
  EXPECT_EQ(r.nick, "Alert Bot");
  for (const char* bad : {"", "conference.xmpp.test", "@conference.xmpp.test", "a@", "a@b@c", "a b@c.d", "a@c.d/"}) {
    EXPECT_THROW(ParseRoom(bad, "alerts"), std::invalid_argument) << bad;
  }
}

TEST(Room, Addressed) {
  EXPECT_EQ(Rooms::Addressed("alerts: silence 1h a=b", "alerts"), "silence 1h a=b");
  EXPECT_EQ(Rooms::Addressed("  Alerts,help ", "alerts"), "help");
  EXPECT_EQ(Rooms::Addressed("alerts:", "alerts"), "");  // addressed, empty: help
  EXPECT_FALSE(Rooms::Addressed("silence 1h a=b", "alerts"));
  EXPECT_FALSE(Rooms::Addressed("alertsbot: help", "alerts"));
  EXPECT_FALSE(Rooms::Addressed("the alerts: are noisy", "alerts"));
}

xp::Element Presence(const std::string& from, const std::string& real, const std::string& type = "") {
  xp::Element item{"", "item", {{"affiliation", "none"}, {"role", "participant"}}, "", {}};
  if (!real.empty()) item.attrs.emplace_back("jid", real);
  xp::Element x{kNsMucUser, "x", {}, "", {item}};
  xp::Element p{"jabber:client", "presence", {{"from", from}}, "", {x}};
  if (!type.empty()) p.attrs.emplace_back("type", type);
  return p;
}

TEST(Room, RealJidsFromPresence) {
  Rooms rooms({ParseRoom("oncall@conference.xmpp.test", "alerts")});
  EXPECT_TRUE(rooms.OnPresence(Presence("oncall@conference.xmpp.test/ann", "Oncall@xmpp.test/phone")));
  EXPECT_TRUE(rooms.OnPresence(Presence("oncall@conference.xmpp.test/anon", "")));
  EXPECT_FALSE(rooms.OnPresence(Presence("other@conference.xmpp.test/ann", "carol@xmpp.test/x")));
  EXPECT_EQ(rooms.RealJid("oncall@conference.xmpp.test/ann"), "oncall@xmpp.test");
  EXPECT_EQ(rooms.RealJid("oncall@conference.xmpp.test/anon"), "");  // anonymous: no command runs
  EXPECT_EQ(rooms.RealJid("other@conference.xmpp.test/ann"), "");
  rooms.OnPresence(Presence("oncall@conference.xmpp.test/ann", "", "unavailable"));
  EXPECT_EQ(rooms.RealJid("oncall@conference.xmpp.test/ann"), "");  // left: the nick may be someone else next
}

}  // namespace
}  // namespace relay
