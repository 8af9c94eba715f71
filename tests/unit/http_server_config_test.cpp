// The shared HTTP server's web configuration at work: configured headers on every answer,
// basic auth checked off the I/O thread, reload swapping users, a reload error keeping the
// old set; plus the helpers next to it (socket addresses, secret files, log quoting).
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>

#include "basic_auth.h"
#include "http_server.h"
#include "http_test_client.h"
#include "listen_address.h"
#include "log.h"
#include "secret_file.h"

namespace xw {
namespace {

using namespace std::chrono_literals;
using xw::testing::Exchange;
using xw::testing::Get;
using xw::testing::StatusOf;

std::string AuthHeader(const std::string& user_pass) {
  std::string out(4 * ((user_pass.size() + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(user_pass.data()), static_cast<int>(user_pass.size()));
  out.resize(static_cast<std::size_t>(n));
  return "Authorization: Basic " + out + "\r\n";
}

class TempDir {
 public:
  TempDir() : path_(std::filesystem::temp_directory_path() / ("xw-http-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& text, mode_t mode = 0600) {
    const auto p = path_ / name;
    std::ofstream(p) << text;
    ::chmod(p.c_str(), mode);
    return p.string();
  }

 private:
  std::filesystem::path path_;
};

HttpServerOptions Local() {
  HttpServerOptions o;
  o.address = ParseListenAddress("127.0.0.1:0");
  return o;
}

TEST(HttpServerConfig, HeadersAreApplied) {
  auto opts = Local();
  opts.web.headers = {{"X-Frame-Options", "deny"}, {"Strict-Transport-Security", "max-age=60"}};
  HttpServer s(opts);
  s.Handle("/metrics", [](const HttpRequest&) { return HttpResponse{200, "text/plain", "up 1\n"}; });
  s.Start();
  for (const std::string path : {"/metrics", "/missing"}) {
    const std::string res = Exchange(s.port(), Get(path));
    EXPECT_NE(res.find("X-Frame-Options: deny\r\n"), std::string::npos) << res;
    EXPECT_NE(res.find("Strict-Transport-Security: max-age=60\r\n"), std::string::npos) << res;
  }
}

TEST(HttpServerConfig, ReloadSwapsUsersAndKeepsTheOldSetOnError) {
  TempDir dir;
  const std::string hash_a = BcryptHash("pa", 4), hash_b = BcryptHash("pb", 4);
  const std::string file = dir.Write("web.yml", "basic_auth_users:\n  alice: " + hash_a + "\n");
  auto opts = Local();
  opts.web = LoadWebConfig(file);
  HttpServer s(opts);
  s.Handle("/metrics", [](const HttpRequest&) { return HttpResponse{200, "text/plain", "up 1\n"}; });
  s.Start();
  EXPECT_EQ(StatusOf(Exchange(s.port(), Get("/metrics", AuthHeader("alice:pa")))), 200);
  EXPECT_EQ(StatusOf(Exchange(s.port(), Get("/metrics", AuthHeader("bob:pb")))), 401);

  dir.Write("web.yml", "basic_auth_users:\n  bob: " + hash_b + "\n");
  s.ReloadWebConfig(file);
  EXPECT_EQ(StatusOf(Exchange(s.port(), Get("/metrics", AuthHeader("alice:pa")))), 401);  // not from a stale cache
  EXPECT_EQ(StatusOf(Exchange(s.port(), Get("/metrics", AuthHeader("bob:pb")))), 200);

  dir.Write("web.yml", "basic_auth_users:\n  carol: plaintext\n");
  try {
    s.ReloadWebConfig(file);
    FAIL() << "a bad web config was taken";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("basic_auth_users.carol is not a bcrypt hash"), std::string::npos);
  }
  EXPECT_EQ(StatusOf(Exchange(s.port(), Get("/metrics", AuthHeader("bob:pb")))), 200);  // old set still in force

  // Turning TLS on by reload is refused (clients use one scheme); plain HTTP stays.
  dir.Write("web.yml", "tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n");
  EXPECT_THROW(s.ReloadWebConfig(file), ConfigError);
  EXPECT_EQ(StatusOf(Exchange(s.port(), Get("/metrics", AuthHeader("bob:pb")))), 200);
}

// bcrypt (here cost 12, ~200 ms) runs on the pool: a stream of wrong guesses does not hold up
// an authenticated scrape whose header is cached.
TEST(HttpServerConfig, BcryptRunsOffTheIoThread) {
  auto opts = Local();
  opts.web.basic_auth_users = {{"prom", BcryptHash("good", 12)}};
  opts.blocking_workers = 2;
  HttpServer s(opts);
  s.Handle("/metrics", [](const HttpRequest&) { return HttpResponse{200, "text/plain", "up 1\n"}; });
  s.Start();
  ASSERT_EQ(StatusOf(Exchange(s.port(), Get("/metrics", AuthHeader("prom:good")))), 200);  // now cached
  std::vector<std::future<std::string>> guesses;
  for (int i = 0; i < 8; ++i) {
    guesses.push_back(std::async(std::launch::async, [&, i] {
      return Exchange(s.port(), Get("/metrics", AuthHeader("prom:guess" + std::to_string(i))), 30s);
    }));
  }
  std::this_thread::sleep_for(100ms);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(StatusOf(Exchange(s.port(), Get("/metrics", AuthHeader("prom:good")))), 200);
  const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[ figure ] cached scrape during 8 bcrypt(12) guesses: %.1f ms\n", ms);
  for (auto& g : guesses) EXPECT_EQ(StatusOf(g.get()), 401);
}

TEST(SocketAddress, FromListenAddress) {
  const SocketAddress v4 = ToSocketAddress(ParseListenAddress("127.0.0.2:9100"));
  EXPECT_EQ(v4.family(), AF_INET);
  EXPECT_EQ(v4.length, sizeof(sockaddr_in));
  EXPECT_EQ(PortOf(v4.storage), 9100);
  const SocketAddress v6 = ToSocketAddress(ParseListenAddress("[::1]:0"));
  EXPECT_EQ(v6.family(), AF_INET6);
  EXPECT_THROW(ToSocketAddress(ParseListenAddress("localhost:9100")), ConfigError);
  // It binds.
  const int fd = ::socket(v4.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  const SocketAddress any = ToSocketAddress(ParseListenAddress("127.0.0.1:0"));
  EXPECT_EQ(::bind(fd, any.get(), any.length), 0);
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  EXPECT_GT(PortOf(bound), 0);
  ::close(fd);
}

TEST(SecretFile, ReadsFirstLineAndChecksMode) {
  TempDir dir;
  EXPECT_EQ(ReadSecretFile(dir.Write("s", "https://hooks.example/T0K3N\n")), "https://hooks.example/T0K3N");
  const std::string open_file = dir.Write("o", "tok\n", 0644);
  EXPECT_EQ(ReadSecretFile(open_file), "tok");
  try {
    ReadSecretFile(open_file, SecretFileMode::kOwnerOnly);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("chmod 600"), std::string::npos);
    EXPECT_EQ(std::string(e.what()).find("tok"), std::string::npos);  // never the content
  }
  EXPECT_THROW(ReadSecretFile(dir.Write("e", "\n")), ConfigError);
  EXPECT_THROW(ReadSecretFile("/nonexistent/secret"), ConfigError);
}

TEST(Log, ControlBytesCannotForgeALine) {
  ::testing::internal::CaptureStderr();
  log::Info("request", {{"path", "/x\r\nts=2026 level=error msg=forged"}, {"user", "a\tb\x01"}});
  const std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  EXPECT_EQ(out.find('\r'), std::string::npos) << out;
  EXPECT_NE(out.find(R"(path="/x\r\nts=2026 level=error msg=forged")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"(user="a\tb\x01")"), std::string::npos) << out;
}

TEST(Log, JsonFormatIsOneValidObjectPerLine) {
  log::SetFormat("json");
  ::testing::internal::CaptureStderr();
  log::Warn("say \"hi\"", {{"path", "/x\r\n{\"forged\":1}"}, {"bad", std::string("a\xff\x01") + "b"}});
  const std::string out = ::testing::internal::GetCapturedStderr();
  log::SetFormat("logfmt");
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  EXPECT_EQ(out.rfind(R"({"ts":")", 0), 0u) << out;
  EXPECT_NE(out.find(R"("level":"warn","msg":"say \"hi\"","path":"/x\u000d\u000a{\"forged\":1}")"), std::string::npos)
      << out;
  EXPECT_NE(out.find("\"bad\":\"a\xef\xbf\xbd\\u0001b\"}"), std::string::npos) << out;  // U+FFFD for the bad byte
  EXPECT_THROW(log::SetFormat("xml"), std::invalid_argument);
}

}  // namespace
}  // namespace xw
