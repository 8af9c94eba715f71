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
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\0\xff\x01", 3)}) {
    EXPECT_EQ(Base64Decode(Base64Encode(s)), s);
  }
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(OutcomeOf([] { Base64Decode("abc"); }), Outcome::kProtocolError);
  EXPECT_EQ(OutcomeOf([] { Base64Decode("ab\ncd=="); }), Outcome::kProtocolError);
}

}  // namespace
}  // namespace xp
