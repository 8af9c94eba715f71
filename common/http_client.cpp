#include "http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>

namespace xw {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

struct Url {
  std::string host, port, target;
};

Url ParseUrl(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) throw HttpError("url", "'" + url + "': only http:// URLs are supported");
  const std::string rest = url.substr(kScheme.size());
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  Url u;
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  const auto colon = authority.rfind(':');
  if (colon == std::string::npos || colon + 1 == authority.size()) {
    u.host = authority;
    u.port = "80";
  } else {
    u.host = authority.substr(0, colon);
    u.port = authority.substr(colon + 1);
  }
  if (u.host.empty()) throw HttpError("url", "'" + url + "': no host");
  return u;
}

}  // namespace

HttpReply HttpPostJson(const std::string& url, const std::string& body, std::chrono::milliseconds timeout) {
  return HttpRequestJson("POST", url, body, timeout);
}

HttpReply HttpRequestJson(const std::string& method, const std::string& url, const std::string& body,
                          std::chrono::milliseconds timeout) {
  const Url u = ParseUrl(url);
  const http::verb verb = http::string_to_verb(method);
  if (verb == http::verb::unknown) throw HttpError("url", "'" + method + "': not an HTTP method");
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  beast::flat_buffer buffer;
  http::request<http::string_body> req{verb, u.target, 11};
  req.set(http::field::host, u.host);
  req.set(http::field::user_agent, "xmppwatch");
  if (!body.empty() || verb == http::verb::post) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.set(http::field::accept, "application/json");
  req.prepare_payload();
  http::response_parser<http::string_body> parser;
  parser.body_limit(4 * 1024 * 1024);

  beast::error_code result = asio::error::would_block;
  const char* stage = "connect";
  asio::ip::tcp::resolver resolver(ioc);
  beast::error_code ec;
  const auto endpoints = resolver.resolve(u.host, u.port, asio::ip::resolver_base::numeric_host, ec);
  if (ec) throw HttpError("url", url + ": '" + u.host + "' must be an IP address: " + ec.message());

  stream.expires_after(timeout);
  stream.async_connect(endpoints, [&](beast::error_code cec, const auto&) {
    if (cec) {
      result = cec;
      return;
    }
    stage = "write";
    http::async_write(stream, req, [&](beast::error_code wec, std::size_t) {
      if (wec) {
        result = wec;
        return;
      }
      stage = "read";
      http::async_read(stream, buffer, parser, [&](beast::error_code rec, std::size_t) { result = rec; });
    });
  });
  ioc.run();
  if (result == beast::error::timeout) {
    throw HttpError("timeout", url + ": no answer within " + std::to_string(timeout.count()) + " ms (" + stage + ")");
  }
  if (result) {
    throw HttpError(std::string(stage) == "connect" ? "connect" : "io",
                    url + ": " + stage + " failed: " + result.message());
  }
  HttpReply reply;
  reply.status = static_cast<int>(parser.get().result_int());
  reply.body = std::move(parser.get().body());
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  return reply;
}

}  // namespace xw
