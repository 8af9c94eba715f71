#include "xmpp/scram.h"

#include <gtest/gtest.h>

#include "xmpp/outcome.h"

namespace xp {
namespace {

Outcome OutcomeOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const ProbeError& e) {
    return e.outcome();
  }
  return Outcome::kOk;
}

TEST(Scram, Rfc5802Sha1Vector) {
  ScramClient c(ScramHash::kSha1, "user", "pencil", "fyko+d2lbbFgONRv9qkxdawL");
  EXPECT_EQ(c.ClientFirst(), "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
  EXPECT_EQ(c.ClientFinal("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"),
            "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
  EXPECT_NO_THROW(c.VerifyServerFinal("v=rmF9pqV8S7suAoZWja4dJRkFsKQ="));
}

TEST(Scram, Rfc7677Sha256Vector) {
  ScramClient c(ScramHash::kSha256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO");
  EXPECT_EQ(c.ClientFirst(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  EXPECT_EQ(c.ClientFinal("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"),
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
            "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
  EXPECT_NO_THROW(c.VerifyServerFinal("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="));
}

TEST(Scram, WrongServerSignatureIsAuthFailure) {
  ScramClient c(ScramHash::kSha1, "user", "pencil", "fyko+d2lbbFgONRv9qkxdawL");
  c.ClientFirst();
  c.ClientFinal("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096");
  EXPECT_EQ(OutcomeOf([&] { c.VerifyServerFinal("v=AAAAAAAAAAAAAAAAAAAAAAAAAAA="); }), Outcome::kAuthFailed);
  EXPECT_EQ(OutcomeOf([&] { c.VerifyServerFinal("e=invalid-proof"); }), Outcome::kAuthFailed);
  EXPECT_EQ(OutcomeOf([&] { c.VerifyServerFinal("x=1"); }), Outcome::kProtocolError);
}

TEST(Scram, ServerNonceMustExtendClientNonce) {
  ScramClient c(ScramHash::kSha256, "user", "pencil", "abc");
  c.ClientFirst();
  EXPECT_EQ(OutcomeOf([&] { c.ClientFinal("r=xyzdef,s=QSXCR+Q6sek8bf92,i=4096"); }), Outcome::kProtocolError);
  EXPECT_EQ(OutcomeOf([&] { c.ClientFinal("r=abc,s=QSXCR+Q6sek8bf92,i=4096"); }), Outcome::kProtocolError);
}

TEST(Scram, HostileIterationCountIsRefused) {
  ScramClient c(ScramHash::kSha256, "user", "pencil", "abc");
  c.ClientFirst();
  EXPECT_EQ(OutcomeOf([&] { c.ClientFinal("r=abcdef,s=QSXCR+Q6sek8bf92,i=2000000000"); }), Outcome::kProtocolError);
}

TEST(Scram, IterationCountBelowMinimumIsRefused) {
  for (const char* first : {"r=abcdef,s=QSXCR+Q6sek8bf92,i=1", "r=abcdef,s=QSXCR+Q6sek8bf92,i=4095"}) {
    ScramClient c(ScramHash::kSha256, "user", "pencil", "abc");
    c.ClientFirst();
    EXPECT_EQ(OutcomeOf([&] { c.ClientFinal(first); }), Outcome::kScramIterationsTooLow) << first;
  }
  ScramClient c(ScramHash::kSha256, "user", "pencil", "abc");
  c.ClientFirst();
  EXPECT_EQ(OutcomeOf([&] { c.ClientFinal("r=abcdef,s=QSXCR+Q6sek8bf92,i=4096"); }), Outcome::kOk);
}

TEST(Scram, Gs2HeaderCarriesTheChannelBindingFlag) {
  const std::string first = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
  ScramClient y(ScramHash::kSha1, "user", "pencil", "fyko+d2lbbFgONRv9qkxdawL");
  y.SetChannelBinding(CbFlag::kSupported);
  EXPECT_EQ(y.ClientFirst(), "y,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
  EXPECT_TRUE(y.ClientFinal(first).starts_with("c=eSws,r="));  // base64("y,,")

  const std::string binding(32, '\x5a');
  ScramClient p(ScramHash::kSha1, "user", "pencil", "fyko+d2lbbFgONRv9qkxdawL");
  p.SetChannelBinding(CbFlag::kBound, "tls-exporter", binding);
  EXPECT_EQ(p.ClientFirst(), "p=tls-exporter,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
  std::string final_msg = p.ClientFinal(first);
  EXPECT_TRUE(final_msg.starts_with("c=" + Base64Encode("p=tls-exporter,," + binding) + ",r=")) << final_msg;
  // The binding is inside the signed AuthMessage: the RFC 5802 proof (for "n,,") no longer fits.
  EXPECT_EQ(final_msg.find("p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="), std::string::npos);
}

TEST(Scram, MalformedServerFirst) {
  for (const char* bad : {"", "r=abc", "r=abc,s=!!!!,i=1", "r=a,s=QSXCR+Q6sek8bf92,i=x", "r=a,s=QSXCR+Q6sek8bf92,i=-5",
                          "garbage", "r=a,,s=b", "m=ext,r=a,s=QSXCR+Q6sek8bf92,i=1", "r=a,s=QSXCR+Q6sek8bf92,i=1,"}) {
    EXPECT_EQ(OutcomeOf([&] { ParseServerFirst(bad); }), Outcome::kProtocolError) << bad;
  }
}

TEST(Scram, UserNameIsEscaped) {
  ScramClient c(ScramHash::kSha1, "a,b=c", "p", "n");
  EXPECT_EQ(c.ClientFirst(), "n,,n=a=2Cb=3Dc,r=n");
}

TEST(Base64, RoundTripAndPadding) {
  for (const std::string& s :
       std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\0\xff\x01", 3)}) {
    EXPECT_EQ(Base64Decode(Base64Encode(s)), s);
  }
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(OutcomeOf([] { Base64Decode("abc"); }), Outcome::kProtocolError);
  EXPECT_EQ(OutcomeOf([] { Base64Decode("ab\ncd=="); }), Outcome::kProtocolError);
}

}  // namespace
}  // namespace xp
