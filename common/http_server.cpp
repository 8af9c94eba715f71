// Listening, accepting (with a connection cap and back-off on errors), and the web
// configuration in force (TLS context, users, headers) with its reload. One connection's
// life is in http_session.cpp.
#include "http_server.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <optional>
#include <thread>

#include "http_server_internal.h"
#include "log.h"

namespace xw {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

int TlsVersion(const std::string& name) {
  if (name == "TLS10") return TLS1_VERSION;
  if (name == "TLS11") return TLS1_1_VERSION;
  if (name == "TLS13") return TLS1_3_VERSION;
  return TLS1_2_VERSION;
}

// Go's RequestClientCert and RequireAnyClientCert take any certificate without verifying it.
int AcceptAnyCertificate(int, X509_STORE_CTX*) {
  return 1;
}

// Throws ConfigError naming the file that could not be used.
void SetupTls(SSL_CTX* ctx, const TlsServerConfig& tls) {
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_min_proto_version(ctx, TlsVersion(tls.min_version));
  if (!tls.max_version.empty()) SSL_CTX_set_max_proto_version(ctx, TlsVersion(tls.max_version));
  if (SSL_CTX_use_certificate_chain_file(ctx, tls.cert_file.c_str()) != 1) {
    throw ConfigError("cannot load TLS certificate " + tls.cert_file + ": " + OpenSslError());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw ConfigError("cannot load TLS key " + tls.key_file + ": " + OpenSslError());
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    throw ConfigError("TLS key " + tls.key_file + " does not match certificate " + tls.cert_file + " (mismatch)");
  }
  if (!tls.client_ca_file.empty() && SSL_CTX_load_verify_locations(ctx, tls.client_ca_file.c_str(), nullptr) != 1) {
    throw ConfigError("cannot load client CA " + tls.client_ca_file + ": " + OpenSslError());
  }
  const auto& t = tls.client_auth_type;
  if (t == "RequestClientCert") {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, AcceptAnyCertificate);
  } else if (t == "RequireAnyClientCert") {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, AcceptAnyCertificate);
  } else if (t == "VerifyClientCertIfGiven") {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  } else if (t == "RequireAndVerifyClientCert") {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
}

}  // namespace

std::shared_ptr<const ActiveWebConfig> BuildWebConfig(WebConfig web) {
  auto c = std::make_shared<ActiveWebConfig>();
  if (web.tls_enabled) {
    c->tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    SetupTls(c->tls->native_handle(), web.tls);
  }
  c->auth = std::make_shared<BasicAuthenticator>(web.basic_auth_users);
  c->web = std::move(web);
  return c;
}

std::string HttpRequest::Param(const std::string& key) const {
  const auto it = params.find(key);
  return it == params.end() ? std::string() : it->second;
}

struct HttpServer::Impl {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  asio::steady_timer retry{ioc};
  std::vector<std::thread> threads;
  // Once per burst: a full table or a stream of rejected connections is one log line.
  bool accept_error_logged = false;
  bool cap_logged = false;
};

HttpServer::HttpServer(HttpServerOptions options) : impl_(std::make_unique<Impl>()) {
  auto config = BuildWebConfig(options.web);
  shared_ = std::make_shared<Shared>(std::move(options), std::move(config));
}

HttpServer::~HttpServer() {
  Stop();
}

void HttpServer::Handle(const std::string& path, Handler handler) {
  Handle(path, RouteOptions{}, std::move(handler));
}

void HttpServer::Handle(const std::string& path, RouteOptions options, Handler handler) {
  shared_->routes[path][options.method] = Route{options, std::move(handler)};
}

void HttpServer::ReloadWebConfig(const std::string& path) {
  ReloadWebConfig(LoadWebConfig(path));
}

void HttpServer::ReloadWebConfig(WebConfig web) {
  const auto old = shared_->Config();
  if (web.tls_enabled != old->web.tls_enabled) {
    // Clients and Prometheus' scrape config use one scheme; switching it under them is an
    // operator error to report, not to carry out (and never a silent fall to plain HTTP).
    throw ConfigError(std::string("web config reload refused: it would turn TLS ") + (web.tls_enabled ? "on" : "off") +
                      "; restart the daemon to change that");
  }
  shared_->SetConfig(BuildWebConfig(std::move(web)));
  const auto now = shared_->Config();
  log::Info("web config reloaded", {{"tls", now->web.tls_enabled ? "true" : "false"},
                                    {"basic_auth", now->auth->enabled() ? "true" : "false"}});
}

void HttpServer::Start() {
  const auto& a = shared_->options.address;
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(a.host, ec);
  if (ec) throw ConfigError("cannot listen on " + a.ToString() + ": '" + a.host + "' is not an IP address");
  const tcp::endpoint endpoint(ip, static_cast<unsigned short>(a.port));
  auto fail = [&](const char* what) {
    throw ConfigError("cannot listen on " + a.ToString() + ": " + what + ": " + ec.message());
  };
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (ec) fail("socket");
  // SO_REUSEADDR only: a second exporter on the same port must fail, not share it.
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  impl_->acceptor.bind(endpoint, ec);
  if (ec) fail("bind");
  impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) fail("listen");
  bound_port_ = impl_->acceptor.local_endpoint().port();
  shared_->pool =
      std::make_unique<asio::thread_pool>(static_cast<std::size_t>(std::max(1, shared_->options.blocking_workers)));
  Accept();
  const int n = std::max(1, shared_->options.workers);
  for (int i = 0; i < n; ++i) impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  const auto config = shared_->Config();
  log::Info("listening", {{"address", a.host + ":" + std::to_string(bound_port_)},
                          {"tls", config->web.tls_enabled ? "true" : "false"},
                          {"basic_auth", config->auth->enabled() ? "true" : "false"}});
}

void HttpServer::Accept() {
  impl_->acceptor.async_accept(asio::make_strand(impl_->ioc), [this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      // EMFILE/ENFILE leave the connection in the backlog: accepting again at once would
      // spin. Wait for descriptors to free up.
      if (!impl_->accept_error_logged) {
        log::Error("accept failed, retrying every 100 ms", {{"err", ec.message()}});
        impl_->accept_error_logged = true;
      }
      return AcceptLater();
    }
    impl_->accept_error_logged = false;
    if (shared_->connections.load() >= shared_->options.max_connections) {
      // Closed at once rather than left in the backlog: the client learns immediately, and
      // the backlog stays free for when a slot opens.
      if (!impl_->cap_logged) {
        log::Warn("connection limit reached, closing new connections",
                  {{"max_connections", std::to_string(shared_->options.max_connections)}});
        impl_->cap_logged = true;
      }
      boost::system::error_code ignored;
      socket.close(ignored);
    } else {
      impl_->cap_logged = false;
      StartSession(std::move(socket), shared_, shared_->Config());
    }
    Accept();
  });
}

void HttpServer::AcceptLater() {
  impl_->retry.expires_after(std::chrono::milliseconds(100));
  impl_->retry.async_wait([this](boost::system::error_code ec) {
    if (!ec) Accept();
  });
}

void HttpServer::Stop() {
  if (impl_->threads.empty()) return;
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  if (shared_->pool) {
    // A blocking handler still running finishes its call; nothing waits for its answer.
    shared_->pool->stop();
    shared_->pool->join();
    shared_->pool.reset();  // drops queued work, and with it the sessions it holds
  }
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
}

}  // namespace xw
