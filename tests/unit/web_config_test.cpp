#include "web_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace xw {
namespace {

class WebConfigTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text) {
    const auto path = dir_ / "web.yml";
    std::ofstream(path) << text;
    return path.string();
  }
  std::string ErrorOf(const std::string& text) {
    try {
      LoadWebConfig(Write(text));
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("webcfg-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

constexpr const char* kHash = "$2b$10$hNf2lSsxfm0.i4a.1kVpSOVyBCfIB51VRjgBUyv6kdnyTlgWj81Ay";

TEST_F(WebConfigTest, EmptyPathMeansPlainHttp) {
  const auto cfg = LoadWebConfig("");
  EXPECT_FALSE(cfg.tls_enabled);
  EXPECT_TRUE(cfg.basic_auth_users.empty());
}

TEST_F(WebConfigTest, ToolkitFormatLoads) {
  const auto cfg = LoadWebConfig(Write(std::string("tls_server_config:\n  cert_file: c.pem\n  key_file: /abs/k.pem\n"
                                                   "  min_version: TLS13\nbasic_auth_users:\n  prom: ") +
                                       kHash + "\n"));
  EXPECT_TRUE(cfg.tls_enabled);
  EXPECT_EQ(cfg.tls.cert_file, (dir_ / "c.pem").string());  // relative to the config file
  EXPECT_EQ(cfg.tls.key_file, "/abs/k.pem");
  EXPECT_EQ(cfg.tls.min_version, "TLS13");
  EXPECT_EQ(cfg.basic_auth_users.at("prom"), kHash);
}

TEST_F(WebConfigTest, ErrorsNameTheProblem) {
  EXPECT_NE(ErrorOf("tls_server_config:\n  cert_fil: x\n").find("unknown key 'cert_fil'"), std::string::npos);
  EXPECT_NE(ErrorOf("tls_server_config:\n  cert_file: x\n").find("both cert_file and key_file"), std::string::npos);
  EXPECT_NE(ErrorOf("basic_auth_users:\n  prom: plaintext\n").find("basic_auth_users.prom is not a bcrypt hash"),
            std::string::npos);
  EXPECT_NE(ErrorOf("tls_server_config: [\n").find("not valid YAML"), std::string::npos);
  EXPECT_NE(ErrorOf("tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: SSL3\n").find("SSL3"),
            std::string::npos);
  EXPECT_NE(ErrorOf("bogus: 1\n").find("unknown key 'bogus'"), std::string::npos);
  try {
    LoadWebConfig("/nonexistent/web.yml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/web.yml"), std::string::npos);
  }
}

// Fails closed: every inconsistency is an error naming it, never plain HTTP or open access.
TEST_F(WebConfigTest, InconsistenciesAreRefused) {
  auto has = [&](const std::string& yaml, const std::string& want) {
    const std::string err = ErrorOf(yaml);
    EXPECT_NE(err.find(want), std::string::npos) << "config:\n" << yaml << "error: '" << err << "'";
  };
  // client auth without a certificate used to mean plain HTTP
  has("tls_server_config:\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n",
      "needs both cert_file and key_file");
  has("tls_server_config:\n  cert_file: c\n  key_file: k\n  client_auth_type: RequireAndVerifyClientCert\n",
      "needs client_ca_file");
  has("tls_server_config:\n  cert_file: c\n  key_file: k\n  client_auth_type: VerifyClientCertIfGiven\n",
      "needs client_ca_file");
  has("tls_server_config:\n  cert_file: c\n  key_file: k\n  client_ca_file: ca.pem\n", "NoClientCert");
  has("tls_server_config:\n  key_file: k\n", "needs both cert_file and key_file");
  has("tls_server_config:\n  cert_file: c\n  key_file: k\n  client_auth_type: Sometimes\n", "'Sometimes' is unknown");
  has("tls_server_config:\n  cert_file: c\n  key_file: k\n  min_version: TLS13\n  max_version: TLS12\n",
      "above max_version");
  has("tls_server_config:\n  cert_file: c\n  key_file: k\n  max_version: TLS14\n", "'TLS14' is unknown");
  // looks like bcrypt, is not: bad cost, bad alphabet, wrong length
  has(std::string("basic_auth_users:\n  prom: $2b$99$") + std::string(53, 'a') + "\n", "not a bcrypt hash");
  has(std::string("basic_auth_users:\n  prom: $2b$10$") + std::string(52, 'a') + "!\n", "not a bcrypt hash");
  has("basic_auth_users:\n  prom: $2b$10$short\n", "basic_auth_users.prom is not a bcrypt hash");
  has("http_server_config:\n  headers:\n    Content-Type: text/html\n", "'Content-Type' can not be configured");
  has("http_server_config:\n  headers:\n    Set-Cookie: a=b\n", "'Set-Cookie' can not be configured");
  has("http_server_config:\n  headers:\n    X-Frame-Options: allowall\n",
      "invalid value 'allowall' for X-Frame-Options");
  has("http_server_config:\n  http2: maybe\n", "http2 must be true or false");
  has("http_server_config:\n  gzip: true\n", "unknown key 'gzip'");
}

TEST_F(WebConfigTest, HeadersAndHttp2) {
  const auto cfg =
      LoadWebConfig(Write("http_server_config:\n  http2: false\n  headers:\n    X-Frame-Options: deny\n"
                          "    Strict-Transport-Security: max-age=31536000\n    X-Content-Type-Options: nosniff\n"));
  EXPECT_FALSE(cfg.http2);
  EXPECT_EQ(cfg.headers.at("X-Frame-Options"), "deny");
  EXPECT_EQ(cfg.headers.at("Strict-Transport-Security"), "max-age=31536000");
  EXPECT_EQ(cfg.headers.size(), 3u);
  // An empty tls_server_config is no TLS, as in the toolkit.
  EXPECT_FALSE(LoadWebConfig(Write("tls_server_config: {}\n")).tls_enabled);
}

}  // namespace
}  // namespace xw
