#include "basic_auth.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

namespace xw {
namespace {

std::string Header(const std::string& user_pass) {
  std::string out(4 * ((user_pass.size() + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
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

TEST(BasicAuth, SuccessesAreCachedFailuresAreNot) {
  BasicAuthenticator auth({{"prom", BcryptHash("s3cret", 4)}}, /*max_cached=*/2);
  EXPECT_EQ(auth.CheckCached(Header("prom:s3cret")), BasicAuthenticator::Verdict::kNeedsBcrypt);
  EXPECT_TRUE(auth.Check(Header("prom:s3cret")));
  EXPECT_EQ(auth.bcrypt_runs(), 1u);
  EXPECT_EQ(auth.CheckCached(Header("prom:s3cret")), BasicAuthenticator::Verdict::kAllowed);
  EXPECT_TRUE(auth.Check(Header("prom:s3cret")));
  EXPECT_EQ(auth.bcrypt_runs(), 1u);  // from the cache
  EXPECT_FALSE(auth.Check(Header("prom:wrong")));
  EXPECT_FALSE(auth.Check(Header("prom:wrong")));
  EXPECT_EQ(auth.bcrypt_runs(), 3u);  // each wrong guess pays
  EXPECT_FALSE(auth.Check(Header("nobody:x")));
  EXPECT_EQ(auth.bcrypt_runs(), 4u);  // an unknown user costs a bcrypt too (no enumeration)
  EXPECT_EQ(auth.CheckCached("Basic !!"), BasicAuthenticator::Verdict::kDenied);
  EXPECT_EQ(auth.cached(), 1u);
}

TEST(BasicAuth, CacheIsBounded) {
  // Three passing headers, room for two: the oldest goes.
  BasicAuthenticator three({{"a", BcryptHash("p", 4)}, {"b", BcryptHash("p", 4)}, {"c", BcryptHash("p", 4)}}, 2);
  EXPECT_TRUE(three.Check(Header("a:p")));
  EXPECT_TRUE(three.Check(Header("b:p")));
  EXPECT_TRUE(three.Check(Header("c:p")));
  EXPECT_EQ(three.cached(), 2u);
  EXPECT_EQ(three.CheckCached(Header("a:p")), BasicAuthenticator::Verdict::kNeedsBcrypt);  // evicted first
  EXPECT_EQ(three.CheckCached(Header("c:p")), BasicAuthenticator::Verdict::kAllowed);
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
