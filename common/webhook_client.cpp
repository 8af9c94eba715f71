#include "webhook_client.h"

#include <openssl/ssl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>

namespace xw {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

struct Url {
  bool tls = false;
  std::string host, port, target;
};

std::optional<Url> ParseUrl(const std::string& url) {
  Url u;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    u.tls = true;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return std::nullopt;
  }
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (authority.find('@') != std::string::npos) return std::nullopt;  // no userinfo
  std::string host = authority;
  u.port = u.tls ? "443" : "80";
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string::npos) return std::nullopt;
    if (close + 1 < host.size()) {
      if (host[close + 1] != ':') return std::nullopt;
      u.port = host.substr(close + 2);
    }
    host = host.substr(1, close - 1);
  } else if (const auto colon = host.rfind(':'); colon != std::string::npos) {
    u.port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  if (host.empty() || u.port.empty()) return std::nullopt;
  u.host = host;
  return u;
}

// One exchange on any stream; `fail` names the stage that went wrong.
template <class Stream>
void Exchange(Stream& stream, http::request<http::string_body>& req, http::response_parser<http::string_body>& parser,
              beast::flat_buffer& buffer, std::string& outcome) {
  http::async_write(stream, req, [&](beast::error_code ec, std::size_t) {
    if (ec) {
      outcome = ec == beast::error::timeout ? "timeout" : "io_error";
      return;
    }
    http::async_read(stream, buffer, parser, [&](beast::error_code rec, std::size_t) {
      if (rec) outcome = rec == beast::error::timeout ? "timeout" : "io_error";
    });
  });
}

}  // namespace

WebhookResult PostWebhook(const std::string& url, const std::string& json, std::chrono::milliseconds timeout,
                          const std::string& ca_file) {
  WebhookResult r;
  const auto u = ParseUrl(url);
  if (!u) {
    r.outcome = "bad_url";
    return r;
  }
  asio::io_context ioc;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  if (u->tls) {
    ctx.set_verify_mode(asio::ssl::verify_peer);
    beast::error_code ec;
    if (ca_file.empty()) {
      ctx.set_default_verify_paths(ec);
    } else {
      ctx.load_verify_file(ca_file, ec);
    }
    if (ec) {
      r.outcome = "tls_failed";
      return r;
    }
    ctx.set_verify_callback(asio::ssl::host_name_verification(u->host));
  }
  beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
  auto& tcp_layer = beast::get_lowest_layer(stream);
  http::request<http::string_body> req{http::verb::post, u->target, 11};
  req.set(http::field::host, u->host);
  req.set(http::field::content_type, "application/json");
  req.set(http::field::user_agent, "xmppwatch-alert-relay");
  req.body() = json;
  req.prepare_payload();
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024);
  beast::flat_buffer buffer;
  std::string outcome;

  // The resolver gets the same deadline: a hung DNS server must not hold the notification.
  tcp::resolver resolver(ioc);
  asio::steady_timer resolve_deadline(ioc, deadline);
  resolve_deadline.async_wait([&](beast::error_code ec) {
    if (!ec) resolver.cancel();
  });
  resolver.async_resolve(u->host, u->port, [&](beast::error_code ec, const tcp::resolver::results_type& results) {
    resolve_deadline.cancel();
    if (ec) {
      outcome = ec == asio::error::operation_aborted ? "timeout" : "resolve_failed";
      return;
    }
    tcp_layer.expires_at(deadline);
    tcp_layer.async_connect(results, [&](beast::error_code cec, const tcp::endpoint&) {
      if (cec) {
        outcome = cec == beast::error::timeout ? "timeout" : "connect_failed";
        return;
      }
      if (!u->tls) return Exchange(tcp_layer, req, parser, buffer, outcome);
      if (!SSL_set_tlsext_host_name(stream.native_handle(), u->host.c_str())) {
        outcome = "tls_failed";
        return;
      }
      stream.async_handshake(asio::ssl::stream_base::client, [&](beast::error_code hec) {
        if (hec) {
          outcome = hec == beast::error::timeout ? "timeout" : "tls_failed";
          return;
        }
        Exchange(stream, req, parser, buffer, outcome);
      });
    });
  });
  ioc.run();
  if (!outcome.empty()) {
    r.outcome = outcome;
    return r;
  }
  const unsigned status = parser.get().result_int();
  r.ok = status / 100 == 2;
  r.outcome = r.ok ? "ok" : "http_" + std::to_string(status);
  return r;
}

}  // namespace xw
