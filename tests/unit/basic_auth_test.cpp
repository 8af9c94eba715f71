#include "basic_auth.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

namespace xw {
namespace {

std::string Header(const std::string& user_pass) {
  std::string out(4 * ((user_pass.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(user_pass.data()), static_cast<int>(user_pass.size()));
  out.resize(static_cast<std::size_t>(n));
  return "Basic " + out;
}

TEST(BasicAuth, BcryptHashesVerify) {
  BasicAuthenticator auth({{"prom", BcryptHash("s3cret", 4)}});
  EXPECT_TRUE(auth.Check(Header("prom:s3cret")));
  EXPECT_TRUE(auth.Check(Header("prom:s3cret")));  // second time from the cache
  EXPECT_FALSE(auth.Check(Header("prom:wrong")));
  EXPECT_FALSE(auth.Check(Header("other:s3cret")));
  EXPECT_FALSE(auth.Check(""));
  EXPECT_FALSE(auth.Check("Bearer abc"));
  EXPECT_FALSE(auth.Check("Basic !!!notbase64"));
  EXPECT_FALSE(auth.Check(Header("no-colon")));
}

TEST(BasicAuth, PasswordWithColon) {
  BasicAuthenticator auth({{"u", BcryptHash("a:b", 4)}});
  EXPECT_TRUE(auth.Check(Header("u:a:b")));
}

TEST(BasicAuth, DisabledWithoutUsers) {
  BasicAuthenticator auth({});
  EXPECT_FALSE(auth.enabled());
  EXPECT_TRUE(auth.Check(""));
}

TEST(Base64, DecodesWithPadding) {
  std::string out;
  ASSERT_TRUE(DecodeBase64("YQ==", out));
  EXPECT_EQ(out, "a");
  ASSERT_TRUE(DecodeBase64("YWI=", out));
  EXPECT_EQ(out, "ab");
  ASSERT_TRUE(DecodeBase64("YWJj", out));
  EXPECT_EQ(out, "abc");
  EXPECT_FALSE(DecodeBase64("YWJ", out));
}

}  // namespace
}  // namespace xw
