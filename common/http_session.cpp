// One HTTP connection: header (with its deadline), authentication (bcrypt off the I/O
// thread), routing, body (with its own deadline and limit), handler, answer, repeat while
// keep-alive. Every wait has a deadline, so an idle or slow client costs a socket and a
// timer, never a thread.
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>

#include "http_server_internal.h"
#include "log.h"

namespace xw {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string_view View(beast::string_view s) {
  return {s.data(), s.size()};
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

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

std::optional<HttpMethod> MethodOf(http::verb v) {
  switch (v) {
    case http::verb::get:
    case http::verb::head:
      return HttpMethod::kGet;
    case http::verb::post:
      return HttpMethod::kPost;
    case http::verb::put:
      return HttpMethod::kPut;
    case http::verb::delete_:
      return HttpMethod::kDelete;
    default:
      return std::nullopt;
  }
}

std::string Allow(const std::map<HttpMethod, Route>& methods) {
  std::string out;
  for (const auto& [m, route] : methods) {
    if (!out.empty()) out += ", ";
    switch (m) {
      case HttpMethod::kGet:
        out += "GET, HEAD";
        break;
      case HttpMethod::kPost:
        out += "POST";
        break;
      case HttpMethod::kPut:
        out += "PUT";
        break;
      case HttpMethod::kDelete:
        out += "DELETE";
        break;
    }
  }
  return out;
}

std::optional<double> ScrapeTimeout(std::string_view v) {
  double secs = 0;
  const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), secs);
  if (ec != std::errc() || p != v.data() + v.size() || !std::isfinite(secs) || secs <= 0) return std::nullopt;
  return secs;
}

// Identity (or no header) is the only encoding taken: decompressing would make any body
// limit a limit on the compressed size (200 KiB of gzip inflate to 200 MiB).
bool PlainBody(std::string_view encoding) {
  while (!encoding.empty() && (encoding.front() == ' ' || encoding.front() == '\t')) encoding.remove_prefix(1);
  while (!encoding.empty() && (encoding.back() == ' ' || encoding.back() == '\t')) encoding.remove_suffix(1);
  return encoding.empty() || IEquals(encoding, "identity");
}

HttpResponse RunHandler(const Route& route, const HttpRequest& req) {
  try {
    return route.handler(req);
  } catch (const std::exception& e) {
    // The text may name files, hosts or worse: it goes to the log, not to the client.
    log::Error("request handler failed", {{"path", req.path}, {"err", e.what()}});
  } catch (...) {
    log::Error("request handler failed", {{"path", req.path}, {"err", "unknown exception"}});
  }
  return HttpResponse{500, "text/plain; charset=utf-8", "internal error\n"};
}

template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(std::shared_ptr<const ActiveWebConfig> config, Stream stream, std::shared_ptr<HttpServer::Shared> shared,
          std::string remote)
      : config_(std::move(config)),
        slot_(shared),
        stream_(std::move(stream)),
        shared_(std::move(shared)),
        remote_(std::move(remote)) {}

  void Start() {
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      Lowest().expires_after(shared_->options.read_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (ec) return;  // plain HTTP or a bad client: just drop it
        self->ReadHeader();
      });
    } else {
      ReadHeader();
    }
  }

 private:
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }
  const http::request<http::string_body>& Req() { return parser_->get(); }

  // Between keep-alive requests a connection may idle for keep_alive_timeout; the header
  // deadline then runs from the first byte of the next request.
  void WaitForRequest() {
    if (buffer_.size() > 0) return ReadHeader();
    Lowest().expires_after(shared_->options.keep_alive_timeout);
    stream_.async_read_some(buffer_.prepare(1024),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (ec) return self->Close();
                              self->buffer_.commit(n);
                              self->ReadHeader();
                            });
  }

  void ReadHeader() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_->options.header_limit));
    // Beast's default (1 MiB) would refuse a larger Content-Length while parsing the header,
    // before the route, with its own limit, is known: Dispatch() applies the route's.
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    Lowest().expires_after(shared_->options.read_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec == http::error::header_limit) return Refuse(431, "Request Header Fields Too Large\n");
    if (ec == http::error::body_limit) return Refuse(413, "Payload Too Large\n");
    if (ec && ec.category() == http::make_error_code(http::error::header_limit).category())
      return Refuse(400, "Bad Request\n");
    if (ec) return Close();  // deadline, end of stream, reset
    switch (config_->auth->CheckCached(View(Req()[http::field::authorization]))) {
      case BasicAuthenticator::Verdict::kAllowed:
        return Dispatch();
      case BasicAuthenticator::Verdict::kDenied:
        return Unauthorized();
      case BasicAuthenticator::Verdict::kNeedsBcrypt:
        break;
    }
    // bcrypt takes ~50 ms of CPU: on the pool, so other connections keep being served.
    asio::post(*shared_->pool,
               [self = this->shared_from_this(), header = std::string(View(Req()[http::field::authorization]))] {
                 const bool ok = self->config_->auth->Check(header);
                 asio::post(self->stream_.get_executor(), [self, ok] { ok ? self->Dispatch() : self->Unauthorized(); });
               });
  }

  void Unauthorized() {
    Write(HttpResponse{401, "text/plain; charset=utf-8", "Unauthorized\n"}, true, {"WWW-Authenticate", "Basic"});
  }

  void Dispatch() {
    const auto& req = Req();
    const std::string_view target = View(req.target());
    const auto qmark = target.find('?');
    request_ = HttpRequest{};
    request_.path = std::string(target.substr(0, qmark));
    if (qmark != std::string_view::npos) ParseQuery(target.substr(qmark + 1), request_.params);
    request_.accept = std::string(View(req[http::field::accept]));
    request_.content_type = std::string(View(req[http::field::content_type]));
    request_.remote = remote_;
    if (const auto it = req.find("X-Prometheus-Scrape-Timeout-Seconds"); it != req.end()) {
      request_.scrape_timeout_seconds = ScrapeTimeout(View(it->value()));
    }
    const auto path = shared_->routes.find(request_.path);
    if (path == shared_->routes.end()) return Refuse(404, "Not Found\n");
    const auto method = MethodOf(req.method());
    const auto route = method ? path->second.find(*method) : path->second.end();
    if (route == path->second.end()) {
      return Write(HttpResponse{405, "text/plain; charset=utf-8", "Method Not Allowed\n"}, true,
                   {"Allow", Allow(path->second)});
    }
    request_.method = *method;
    route_ = &route->second;
    if (!PlainBody(View(req[http::field::content_encoding]))) {
      return Refuse(415, "Unsupported Media Type: send the body without Content-Encoding\n");
    }
    if (parser_->is_done()) return Invoke();
    const auto length = parser_->content_length();
    if (route_->options.body_limit == 0 || (length && *length > route_->options.body_limit)) {
      return Refuse(413, "Payload Too Large\n");
    }
    parser_->body_limit(route_->options.body_limit);
    if (IEquals(View(req[http::field::expect]), "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, req.version());
      Lowest().expires_after(shared_->options.write_timeout);
      return http::async_write(stream_, *cont,
                               [self = this->shared_from_this(), cont](beast::error_code ec, std::size_t) {
                                 if (ec) return self->Close();
                                 self->ReadBody();
                               });
    }
    ReadBody();
  }

  void ReadBody() {
    Lowest().expires_after(shared_->options.body_timeout);
    http::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec == http::error::body_limit) return self->Refuse(413, "Payload Too Large\n");
      if (ec) return self->Close();
      self->Invoke();
    });
  }

  void Invoke() {
    request_.body = std::move(parser_->get().body());
    if (!route_->options.blocking) return Write(RunHandler(*route_, request_));
    asio::post(*shared_->pool, [self = this->shared_from_this()] {
      auto res = std::make_shared<HttpResponse>(RunHandler(*self->route_, self->request_));
      asio::post(self->stream_.get_executor(), [self, res] { self->Write(std::move(*res)); });
    });
  }

  // An answer before the body was read: the rest of the request is still on the wire, so the
  // connection cannot be reused.
  void Refuse(int status, std::string body) {
    Write(HttpResponse{status, "text/plain; charset=utf-8", std::move(body)}, /*reusable=*/false);
  }

  using Header = std::pair<std::string_view, std::string>;
  void Write(HttpResponse out, bool reusable = true, const Header& extra = {}) {
    const auto& req = Req();
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(req.version() == 10 ? 10 : 11);
    res->keep_alive(reusable && req.keep_alive() && parser_->is_done());
    res->result(static_cast<unsigned>(out.status));
    res->set(http::field::content_type, out.content_type);
    for (const auto& [k, v] : config_->web.headers) res->set(k, v);
    if (!extra.first.empty()) res->set(beast::string_view(extra.first.data(), extra.first.size()), extra.second);
    res->body() = std::move(out.body);
    res->prepare_payload();
    if (req.method() == http::verb::head) res->body().clear();
    Lowest().expires_after(shared_->options.write_timeout);
    http::async_write(stream_, *res, [self = this->shared_from_this(), res](beast::error_code ec, std::size_t) {
      if (ec || !res->keep_alive()) return self->Close();
      self->WaitForRequest();
    });
  }

  void Close() {
    beast::error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  // Declared first, destroyed last: the TLS stream uses the context this holds.
  std::shared_ptr<const ActiveWebConfig> config_;
  ConnectionSlot slot_;
  Stream stream_;
  std::shared_ptr<HttpServer::Shared> shared_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpRequest request_;
  const Route* route_ = nullptr;
};

}  // namespace

void StartSession(tcp::socket socket, std::shared_ptr<HttpServer::Shared> shared,
                  std::shared_ptr<const ActiveWebConfig> config) {
  beast::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  std::string remote = ec ? std::string() : peer.address().to_string();
  socket.set_option(tcp::no_delay(true), ec);
  beast::tcp_stream stream(std::move(socket));
  if (config->tls) {
    using TlsStream = beast::ssl_stream<beast::tcp_stream>;
    auto& ctx = *config->tls;
    std::make_shared<Session<TlsStream>>(config, TlsStream(std::move(stream), ctx), std::move(shared),
                                         std::move(remote))
        ->Start();
  } else {
    std::make_shared<Session<beast::tcp_stream>>(std::move(config), std::move(stream), std::move(shared),
                                                 std::move(remote))
        ->Start();
  }
}

}  // namespace xw
