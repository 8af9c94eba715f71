#include "http_server.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <optional>

#include "basic_auth.h"
#include "log.h"

namespace xw {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string_view View(beast::string_view s) { return {s.data(), s.size()}; }

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
  int mode = SSL_VERIFY_NONE;
  const auto& t = tls.client_auth_type;
  if (t == "RequestClientCert" || t == "VerifyClientCertIfGiven") mode = SSL_VERIFY_PEER;
  if (t == "RequireAnyClientCert" || t == "RequireAndVerifyClientCert") {
    mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  }
  SSL_CTX_set_verify(ctx, mode, nullptr);
}

// "a=1&b=x%20y" -> params.
void ParseQuery(std::string_view q, std::multimap<std::string, std::string>& out) {
  auto decode = [](std::string_view s) {
    std::string r;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '+') {
        r.push_back(' ');
      } else if (s[i] == '%' && i + 2 < s.size()) {
        int v = 0;
        const auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
        if (ec == std::errc() && p == s.data() + i + 3) {
          r.push_back(static_cast<char>(v));
          i += 2;
        } else {
          r.push_back('%');
        }
      } else {
        r.push_back(s[i]);
      }
    }
    return r;
  };
  while (!q.empty()) {
    const auto amp = q.find('&');
    const auto part = q.substr(0, amp);
    const auto eq = part.find('=');
    if (!part.empty()) {
      out.emplace(decode(part.substr(0, eq)), eq == std::string_view::npos ? "" : decode(part.substr(eq + 1)));
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
}

}  // namespace

// What every connection shares: routes, authentication, limits.
struct HttpServer::Shared {
  HttpServerOptions options;
  std::map<std::string, Handler> routes;
  BasicAuthenticator auth;

  explicit Shared(HttpServerOptions o) : options(std::move(o)), auth(options.web.basic_auth_users) {}

  http::response<http::string_body> Respond(const http::request<http::string_body>& req) {
    http::response<http::string_body> res;
    res.version(req.version());
    res.keep_alive(req.keep_alive());
    auto plain = [&](http::status status, std::string body) {
      res.result(status);
      res.set(http::field::content_type, "text/plain; charset=utf-8");
      res.body() = std::move(body);
    };
    if (auth.enabled() && !auth.Check(View(req[http::field::authorization]))) {
      plain(http::status::unauthorized, "Unauthorized\n");
      res.set(http::field::www_authenticate, "Basic");
    } else if (req.method() != http::verb::get && req.method() != http::verb::head) {
      plain(http::status::method_not_allowed, "Method Not Allowed\n");
    } else {
      const std::string_view target = View(req.target());
      const auto qmark = target.find('?');
      HttpRequest r;
      r.path = std::string(target.substr(0, qmark));
      if (qmark != std::string_view::npos) ParseQuery(target.substr(qmark + 1), r.params);
      r.accept = std::string(View(req[http::field::accept]));
      const auto route = routes.find(r.path);
      if (route == routes.end()) {
        plain(http::status::not_found, "Not Found\n");
      } else {
        try {
          HttpResponse out = route->second(r);
          res.result(static_cast<unsigned>(out.status));
          res.set(http::field::content_type, out.content_type);
          res.body() = std::move(out.body);
        } catch (const std::exception& e) {
          log::Error("request handler failed", {{"path", r.path}, {"err", e.what()}});
          plain(http::status::internal_server_error, std::string("internal error: ") + e.what() + "\n");
        }
      }
    }
    res.prepare_payload();
    if (req.method() == http::verb::head) res.body().clear();
    return res;
  }
};

namespace {

// One connection: read a request, answer, repeat while keep-alive; every wait has a deadline,
// so an idle or slow client costs a socket and a timer, never a thread.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Stream stream, std::shared_ptr<HttpServer::Shared> shared)
      : stream_(std::move(stream)), shared_(std::move(shared)) {}

  void Start() {
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      beast::get_lowest_layer(stream_).expires_after(shared_->options.read_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return;  // plain HTTP or a bad client: just drop it
                                self->Read(self->shared_->options.read_timeout);
                              });
    } else {
      Read(shared_->options.read_timeout);
    }
  }

 private:
  void Read(std::chrono::seconds idle_limit) {
    parser_.emplace();
    parser_->body_limit(64 * 1024);
    parser_->header_limit(16 * 1024);
    beast::get_lowest_layer(stream_).expires_after(idle_limit);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec) return Close();
    beast::get_lowest_layer(stream_).expires_after(shared_->options.write_timeout);
    auto res = std::make_shared<http::response<http::string_body>>(shared_->Respond(parser_->get()));
    http::async_write(stream_, *res, [self = this->shared_from_this(), res](beast::error_code wec, std::size_t) {
      if (wec || !res->keep_alive()) return self->Close();
      self->Read(self->shared_->options.keep_alive_timeout);
    });
  }

  void Close() {
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  Stream stream_;
  std::shared_ptr<HttpServer::Shared> shared_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
};

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

struct HttpServer::Impl {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::optional<asio::ssl::context> tls;
  std::vector<std::thread> threads;
};

HttpServer::HttpServer(HttpServerOptions options)
    : shared_(std::make_shared<Shared>(std::move(options))), impl_(std::make_unique<Impl>()) {
  if (shared_->options.web.tls_enabled) {
    impl_->tls.emplace(asio::ssl::context::tls_server);
    SetupTls(impl_->tls->native_handle(), shared_->options.web.tls);
  }
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Handle(const std::string& path, Handler handler) { shared_->routes[path] = std::move(handler); }

void HttpServer::Start() {
  const auto& a = shared_->options.address;
  beast::error_code ec;
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
  Accept();
  const int n = std::max(1, shared_->options.workers);
  for (int i = 0; i < n; ++i) impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  log::Info("listening", {{"address", a.host + ":" + std::to_string(bound_port_)},
                          {"tls", shared_->options.web.tls_enabled ? "true" : "false"},
                          {"basic_auth", shared_->auth.enabled() ? "true" : "false"}});
}

void HttpServer::Accept() {
  impl_->acceptor.async_accept(asio::make_strand(impl_->ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      beast::tcp_stream stream(std::move(socket));
      if (impl_->tls) {
        std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
            beast::ssl_stream<beast::tcp_stream>(std::move(stream), *impl_->tls), shared_)
            ->Start();
      } else {
        std::make_shared<Session<beast::tcp_stream>>(std::move(stream), shared_)->Start();
      }
    }
    Accept();
  });
}

void HttpServer::Stop() {
  if (impl_->threads.empty()) return;
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
}

}  // namespace xw
