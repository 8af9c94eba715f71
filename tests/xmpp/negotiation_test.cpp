// The sans-I/O negotiation steps the client and the load generator share: SASL choice (with
// and without a channel to bind), the SCRAM exchange against the RFC 7677 vector, bind.
#include "xmpp/negotiation.h"

#include <gtest/gtest.h>

#include "xmpp/outcome.h"

namespace xp {
namespace {

Element Features(const std::vector<std::string>& mechanisms) {
  Element f{std::string(kNsStreams), "features", {}, {}, {}};
  Element m{std::string(kNsSasl), "mechanisms", {}, {}, {}};
  for (const auto& name : mechanisms) m.children.push_back(Element{std::string(kNsSasl), "mechanism", {}, name, {}});
  f.children.push_back(m);
  return f;
}

Element Sasl(const std::string& name, const std::string& text = {}) {
  return Element{std::string(kNsSasl), name, {}, text, {}};
}

Outcome OutcomeOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const ProbeError& e) {
    return e.outcome();
  }
  return Outcome::kOk;
}

TEST(Negotiation, PlainTcpNeverBindsAndSaysSo) {
  SaslPlan plan = ChooseSasl({"SCRAM-SHA-256"}, Features({"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}), nullptr);
  EXPECT_EQ(plan.mechanism, "SCRAM-SHA-256");
  EXPECT_EQ(plan.flag, CbFlag::kNone);
}

TEST(Negotiation, MechanismChoice) {
  EXPECT_EQ(ChooseSasl({"SCRAM-SHA-256", "SCRAM-SHA-1"}, Features({"SCRAM-SHA-1"}), nullptr).mechanism, "SCRAM-SHA-1");
  EXPECT_EQ(OutcomeOf([] { ChooseSasl({"SCRAM-SHA-256"}, Features({"DIGEST-MD5"}), nullptr); }), Outcome::kNoMechanism);
  EXPECT_EQ(OutcomeOf([] { ChooseSasl({"PLAIN"}, Features({"PLAIN"}), nullptr); }), Outcome::kNoMechanism);
  EXPECT_EQ(OutcomeOf([] { ChooseSasl({"X-OAUTH2"}, Features({"X-OAUTH2"}), nullptr); }), Outcome::kConfigError);
  // -PLUS asked for explicitly is never satisfied without a channel.
  EXPECT_EQ(OutcomeOf([] { ChooseSasl({"SCRAM-SHA-256-PLUS"}, Features({"SCRAM-SHA-256-PLUS"}), nullptr); }),
            Outcome::kNoMechanism);
}

TEST(Negotiation, ScramExchangeReproducesRfc7677) {
  SaslPlan plan;
  plan.mechanism = "SCRAM-SHA-256";
  SaslExchange sasl(plan, "user", "pencil", 4096, "rOprNGfwEbeRWgbNEkqO");
  EXPECT_EQ(sasl.Start(), "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>" +
                              Base64Encode("n,,n=user,r=rOprNGfwEbeRWgbNEkqO") + "</auth>");
  std::string response = sasl.OnElement(
      Sasl("challenge",
           Base64Encode("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")));
  EXPECT_NE(response.find(Base64Encode("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                                       "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")),
            std::string::npos);
  EXPECT_FALSE(sasl.done());
  EXPECT_EQ(sasl.OnElement(Sasl("success", Base64Encode("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="))), "");
  EXPECT_TRUE(sasl.done());
}

TEST(Negotiation, ExchangeFailures) {
  SaslPlan plan;
  plan.mechanism = "SCRAM-SHA-1";
  SaslExchange a(plan, "user", "pencil", 4096, "abc");
  a.Start();
  EXPECT_EQ(OutcomeOf([&] { a.OnElement(Sasl("failure")); }), Outcome::kAuthFailed);
  SaslExchange b(plan, "user", "pencil", 4096, "abc");
  b.Start();
  EXPECT_EQ(OutcomeOf([&] { b.OnElement(Sasl("challenge", Base64Encode("r=abcdef,s=QSXCR+Q6sek8bf92,i=1"))); }),
            Outcome::kScramIterationsTooLow);
  SaslExchange c(plan, "user", "pencil", 4096, "abc");
  c.Start();
  EXPECT_EQ(OutcomeOf([&] { c.OnElement(Sasl("success")); }), Outcome::kProtocolError);  // no proof exchanged
}

TEST(Negotiation, BindAndProceed) {
  Element ok{std::string(kNsClient), "iq", {{"type", "result"}}, {}, {}};
  Element bind{std::string(kNsBind), "bind", {}, {}, {}};
  bind.children.push_back(Element{std::string(kNsBind), "jid", {}, "a@b/c", {}});
  ok.children.push_back(bind);
  EXPECT_EQ(BoundJid(ok), "a@b/c");
  Element refused{std::string(kNsClient), "iq", {{"type", "error"}}, {}, {}};
  EXPECT_EQ(OutcomeOf([&] { BoundJid(refused); }), Outcome::kBindFailed);
  EXPECT_EQ(OutcomeOf([] { CheckProceed(Element{std::string(kNsTls), "proceed", {}, {}, {}}); }), Outcome::kOk);
  EXPECT_EQ(OutcomeOf([] { CheckProceed(Element{std::string(kNsTls), "failure", {}, {}, {}}); }), Outcome::kTlsError);
}

}  // namespace
}  // namespace xp
