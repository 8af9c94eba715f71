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
                                                   "  min_version: TLS13\nbasic_auth_users:\n  prom: ") + kHash + "\n"));
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

}  // namespace
}  // namespace xw
