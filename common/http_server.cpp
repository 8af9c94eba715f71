#include "http_server.h"

#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "basic_auth.h"
#include "log.h"

namespace xw {
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

// Configures the server context from the web config, keeping the first error so Start() can
// report it: httplib itself only says "invalid".
bool SetupTls(SSL_CTX& ctx, const TlsServerConfig& tls, std::string& error) {
  SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
  SSL_CTX_set_min_proto_version(&ctx, TlsVersion(tls.min_version));
  if (!tls.max_version.empty()) SSL_CTX_set_max_proto_version(&ctx, TlsVersion(tls.max_version));
  if (SSL_CTX_use_certificate_chain_file(&ctx, tls.cert_file.c_str()) != 1) {
    error = "cannot load TLS certificate " + tls.cert_file + ": " + OpenSslError();
    return false;
  }
  if (SSL_CTX_use_PrivateKey_file(&ctx, tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    error = "cannot load TLS key " + tls.key_file + ": " + OpenSslError();
    return false;
  }
  if (SSL_CTX_check_private_key(&ctx) != 1) {
    error = "TLS key " + tls.key_file + " does not match certificate " + tls.cert_file;
    return false;
  }
  if (!tls.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(&ctx, tls.client_ca_file.c_str(), nullptr) != 1) {
      error = "cannot load client CA " + tls.client_ca_file + ": " + OpenSslError();
      return false;
    }
  }
  int mode = SSL_VERIFY_NONE;
  const auto& t = tls.client_auth_type;
  if (t == "RequestClientCert" || t == "VerifyClientCertIfGiven") mode = SSL_VERIFY_PEER;
  if (t == "RequireAnyClientCert" || t == "RequireAndVerifyClientCert") {
    mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  }
  SSL_CTX_set_verify(&ctx, mode, nullptr);
  return true;
}

}  // namespace

std::string ListenAddress::ToString() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

ListenAddress ParseListenAddress(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) {
    throw ConfigError("listen address '" + text + "' has no port (expected host:port or :port)");
  }
  ListenAddress addr;
  addr.host = text.substr(0, colon);
  if (addr.host.size() >= 2 && addr.host.front() == '[' && addr.host.back() == ']') {
    addr.host = addr.host.substr(1, addr.host.size() - 2);
  } else if (addr.host.find(':') != std::string::npos) {
    throw ConfigError("listen address '" + text + "': IPv6 hosts need brackets, e.g. [::1]:9100");
  }
  if (addr.host.empty()) addr.host = "0.0.0.0";
  const std::string port = text.substr(colon + 1);
  const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), addr.port);
  if (ec != std::errc() || ptr != port.data() + port.size() || addr.port < 0 || addr.port > 65535) {
    throw ConfigError("listen address '" + text + "': port '" + port + "' is not a number in 0..65535");
  }
  return addr;
}

std::string HttpRequest::Param(const std::string& key) const {
  const auto it = params.find(key);
  return it == params.end() ? std::string() : it->second;
}

HttpServer::HttpServer(HttpServerOptions options) : options_(std::move(options)) {
  if (options_.web.tls_enabled) {
    std::string tls_error;
    const TlsServerConfig tls = options_.web.tls;
    server_ = std::make_unique<httplib::SSLServer>(
        [&tls_error, tls](SSL_CTX& ctx) { return SetupTls(ctx, tls, tls_error); });
    if (!server_->is_valid()) throw ConfigError(tls_error.empty() ? "TLS set-up failed" : tls_error);
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  const int workers = options_.workers;
  // httplib's API hands over ownership of a raw TaskQueue pointer.
  server_->new_task_queue = [workers] { return new httplib::ThreadPool(static_cast<std::size_t>(workers)); };
  server_->set_tcp_nodelay(true);
  // httplib's default also sets SO_REUSEPORT, which lets a second exporter bind the same port
  // and silently take half the scrapes: keep only SO_REUSEADDR, so a busy port is an error.
  server_->set_socket_options([](socket_t sock) {
    const int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server_->set_keep_alive_max_count(1000);
  server_->set_keep_alive_timeout(options_.keep_alive_timeout.count());
  server_->set_read_timeout(options_.read_timeout.count());
  server_->set_write_timeout(options_.write_timeout.count());
  server_->set_payload_max_length(64 * 1024);

  auto auth = std::make_shared<BasicAuthenticator>(options_.web.basic_auth_users);
  if (auth->enabled()) {
    server_->set_pre_routing_handler([auth](const httplib::Request& req, httplib::Response& res) {
      if (auth->Check(req.get_header_value("Authorization"))) return httplib::Server::HandlerResponse::Unhandled;
      res.status = 401;
      res.set_header("WWW-Authenticate", "Basic");
      res.set_content("Unauthorized\n", "text/plain");
      return httplib::Server::HandlerResponse::Handled;
    });
  }
  server_->set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    log::Error("request handler failed", {{"path", req.path}, {"err", what}});
    res.status = 500;
    res.set_content("internal error: " + what + "\n", "text/plain");
  });
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Handle(const std::string& path, Handler handler) {
  // httplib patterns are regular expressions: anchor an escaped literal path.
  std::string pattern;
  for (char c : path) {
    if (std::strchr(".^$|()[]{}*+?\\", c) != nullptr) pattern.push_back('\\');
    pattern.push_back(c);
  }
  server_->Get(pattern, [handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
    HttpRequest r;
    r.path = req.path;
    r.accept = req.get_header_value("Accept");
    for (const auto& [k, v] : req.params) r.params.emplace(k, v);
    HttpResponse out = handler(r);
    res.status = out.status;
    res.set_content(std::move(out.body), out.content_type.c_str());
  });
}

void HttpServer::Start() {
  errno = 0;
  if (options_.address.port == 0) {
    bound_port_ = server_->bind_to_any_port(options_.address.host);
  } else if (server_->bind_to_port(options_.address.host, options_.address.port)) {
    bound_port_ = options_.address.port;
  }
  if (bound_port_ <= 0) {
    const std::string why = errno != 0 ? std::strerror(errno) : "address unusable";
    throw ConfigError("cannot listen on " + options_.address.ToString() + ": " + why);
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  log::Info("listening", {{"address", options_.address.host + ":" + std::to_string(bound_port_)},
                          {"tls", options_.web.tls_enabled ? "true" : "false"},
                          {"basic_auth", options_.web.basic_auth_users.empty() ? "false" : "true"}});
}

void HttpServer::Stop() {
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

}  // namespace xw
