// The XMPP alert relay says what the chat notification says: for each fixture notification,
// its rendered message is the template's title, a blank line, and the template's text
// (tests/rules/fixtures/notify_*.{title,text}.txt are rendered by amtool from
// rules/templates/xmppwatch.tmpl and checked by check_alertmanager.sh).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "render.h"

namespace {

std::string Slurp(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot read " + path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string Chomp(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

const std::string kFixtures = XMPPWATCH_RULES_FIXTURES;

class SameAsTemplate : public ::testing::TestWithParam<const char*> {};

TEST_P(SameAsTemplate, TitleAndText) {
  std::string base = kFixtures + "/notify_" + GetParam();
  relay::Notification n = relay::ParseWebhook(Slurp(base + ".json"));
  std::string title = Chomp(Slurp(base + ".title.txt"));
  std::string text = Chomp(Slurp(base + ".text.txt"));
  EXPECT_EQ(relay::RenderTitle(n), title);
  EXPECT_EQ(Chomp(relay::RenderText(n)), title + "\n\n" + text);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, SameAsTemplate, ::testing::Values("firing", "mixed", "resolved"));

TEST(ParseWebhook, RejectsWhatIsNotAWebhook) {
  EXPECT_THROW(relay::ParseWebhook("nope"), std::invalid_argument);
  EXPECT_THROW(relay::ParseWebhook("[]"), std::invalid_argument);
  EXPECT_THROW(relay::ParseWebhook("{\"status\":\"firing\"}"), std::invalid_argument);
  EXPECT_THROW(relay::ParseWebhook("{\"alerts\":[1]}"), std::invalid_argument);
  EXPECT_THROW(relay::ParseWebhook("{\"alerts\":[{\"labels\":[]}]}"), std::invalid_argument);
  EXPECT_THROW(relay::ParseWebhook(std::string(1000, '[')), std::invalid_argument);
}

TEST(ParseWebhook, ToleratesMissingFields) {
  relay::Notification n = relay::ParseWebhook(R"({"alerts":[{"labels":{"alertname":"X"}}]})");
  ASSERT_EQ(n.alerts.size(), 1u);
  EXPECT_EQ(n.status, "firing");
  EXPECT_EQ(relay::RenderTitle(n), "[FIRING:1] X");
  EXPECT_NE(relay::RenderText(n).find("FIRING: X\n"), std::string::npos);
}

TEST(RenderText, CapsTheNumberOfAlerts) {
  std::string body = R"({"status":"firing","commonLabels":{"alertname":"HostDown"},"alerts":[)";
  for (int i = 0; i < 30; ++i) {
    body += std::string(i ? "," : "") + R"({"status":"firing","labels":{"alertname":"HostDown","host":"h)" +
            std::to_string(i) + R"("},"annotations":{"summary":"s"}})";
  }
  body += "]}";
  std::string text = relay::RenderText(relay::ParseWebhook(body), 5);
  EXPECT_NE(text.find("... and 25 more"), std::string::npos);
  EXPECT_EQ(text.find("host h5"), std::string::npos);
  EXPECT_NE(text.find("host h4"), std::string::npos);
}

TEST(FormatTime, UtcAndPassThrough) {
  EXPECT_EQ(relay::FormatTime("2026-11-23T10:00:15.512Z"), "2026-11-23 10:00:15 UTC");
  EXPECT_EQ(relay::FormatTime("garbage"), "garbage");
}

}  // namespace
