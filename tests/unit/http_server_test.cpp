// The shared HTTP(S) server: TLS, basic auth, and idle clients that must not block a scrape.
#include "http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "basic_auth.h"
#include "http_test_client.h"
#include "tls_files.h"

namespace xw {
namespace {

HttpServerOptions Local() {
  HttpServerOptions o;
  o.address = ParseListenAddress("127.0.0.1:0");
  return o;
}

void AddHello(HttpServer& s) {
  s.Handle("/metrics", [](const HttpRequest&) { return HttpResponse{200, "text/plain", "up 1\n"}; });
}

bool StillOpen(int fd) {
  char c;
  const ssize_t n = ::recv(fd, &c, 1, MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

TEST(ListenAddress, Parses) {
  EXPECT_EQ(ParseListenAddress(":9100").host, "0.0.0.0");
  EXPECT_EQ(ParseListenAddress("127.0.0.2:9100").port, 9100);
  EXPECT_EQ(ParseListenAddress("[::1]:9100").host, "::1");
  EXPECT_THROW(ParseListenAddress("9100"), ConfigError);
  EXPECT_THROW(ParseListenAddress("host:99999"), ConfigError);
  EXPECT_THROW(ParseListenAddress("::1:9100"), ConfigError);
}

TEST(HttpServer, ServesAndStops) {
  HttpServer s(Local());
  AddHello(s);
  s.Start();
  httplib::Client c("127.0.0.1", s.port());
  auto r = c.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "up 1\n");
  EXPECT_EQ(c.Get("/nothing-here")->status, 404);
  s.Stop();
  EXPECT_FALSE(httplib::Client("127.0.0.1", s.port()).Get("/metrics"));
}

TEST(HttpServer, BusyPortIsAClearError) {
  HttpServer first(Local());
  first.Start();
  auto opts = Local();
  opts.address.port = first.port();
  HttpServer second(opts);
  try {
    second.Start();
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(first.port())), std::string::npos) << e.what();
  }
}

TEST(HttpServer, IdleClientsDoNotBlockAScrape) {
  auto opts = Local();
  // Long timeouts: if the scrape below only succeeded because the server dropped the idle
  // connections, they would no longer be open at the end.
  opts.keep_alive_timeout = std::chrono::seconds(60);
  opts.read_timeout = std::chrono::seconds(60);
  HttpServer s(opts);
  AddHello(s);
  s.Start();
  std::vector<int> idle;
  for (int i = 0; i < 10; ++i) idle.push_back(testing::Connect(s.port()));
  httplib::Client c("127.0.0.1", s.port());
  c.set_read_timeout(30, 0);
  for (int i = 0; i < 3; ++i) {
    auto r = c.Get("/metrics");
    ASSERT_TRUE(r) << "scrape " << i << " failed with 10 idle clients";
    EXPECT_EQ(r->status, 200);
  }
  for (int fd : idle) {
    EXPECT_TRUE(StillOpen(fd));
    ::close(fd);
  }
}

TEST(HttpServer, TlsAndBasicAuth) {
  testing::TlsFiles tls;
  auto opts = Local();
  opts.web.tls_enabled = true;
  opts.web.tls.cert_file = tls.cert.string();
  opts.web.tls.key_file = tls.key.string();
  opts.web.basic_auth_users = {{"prom", BcryptHash("s3cret", 4)}};
  HttpServer s(opts);
  AddHello(s);
  s.Start();

  httplib::SSLClient ok("127.0.0.1", s.port());
  ok.set_ca_cert_path(tls.cert.c_str());
  ok.enable_server_certificate_verification(true);
  ok.set_basic_auth("prom", "s3cret");
  auto r = ok.Get("/metrics");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "up 1\n");

  httplib::SSLClient wrong("127.0.0.1", s.port());
  wrong.set_ca_cert_path(tls.cert.c_str());
  wrong.set_basic_auth("prom", "nope");
  auto w = wrong.Get("/metrics");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->status, 401);
  EXPECT_EQ(w->get_header_value("WWW-Authenticate"), "Basic");

  httplib::SSLClient none("127.0.0.1", s.port());
  none.set_ca_cert_path(tls.cert.c_str());
  EXPECT_EQ(none.Get("/metrics")->status, 401);

  // Plain HTTP to the TLS port fails cleanly and the server keeps serving.
  httplib::Client plain("127.0.0.1", s.port());
  plain.set_read_timeout(5, 0);
  auto p = plain.Get("/metrics");
  EXPECT_TRUE(!p || p->status >= 400);
  EXPECT_EQ(ok.Get("/metrics")->status, 200);
}

TEST(HttpServer, TlsWithBadKeyIsAClearError) {
  testing::TlsFiles a, b;
  auto opts = Local();
  opts.web.tls_enabled = true;
  opts.web.tls.cert_file = a.cert.string();
  opts.web.tls.key_file = b.key.string();
  try {
    HttpServer s(opts);
    FAIL();
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(b.key.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("mismatch"), std::string::npos) << msg;
  }
  opts.web.tls.cert_file = "/nonexistent.pem";
  try {
    HttpServer s(opts);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent.pem"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace xw
