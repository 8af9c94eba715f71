#include "probe/https_fetch.h"

#include <boost/beast/http.hpp>

#include "xmpp/outcome.h"

namespace xp {

namespace http = boost::beast::http;

namespace {

bool HasControl(const std::string& s) {
  for (unsigned char ch : s) {
    if (ch < 0x20 || ch == 0x7f) return true;
  }
  return false;
}

[[noreturn]] void Fail(const std::string& what) {
  throw ProbeError(Outcome::kUploadFailed, what);
}

struct Url {
  std::string authority, host, path;
  int port = 443;
};

Url ParseHttpsUrl(const std::string& url) {
  constexpr std::string_view kScheme = "https://";
  if (url.rfind(kScheme, 0) != 0) Fail("'" + url + "' is not an https:// URL");
  if (HasControl(url) || url.find(' ') != std::string::npos) Fail("the URL holds spaces or control characters");
  const std::string rest = url.substr(kScheme.size());
  const auto slash = rest.find('/');
  Url u;
  u.authority = rest.substr(0, slash);
  u.path = slash == std::string::npos ? "/" : rest.substr(slash);
  if (u.authority.empty() || u.authority.find('@') != std::string::npos) Fail("'" + url + "' has no usable host");
  // The URL comes from the server (the upload slot): a bad port in it is the service's fault.
  try {
    auto [host, port] = SplitHostPort(u.authority, 443);
    u.host = host;
    u.port = port;
  } catch (const ProbeError& e) {
    Fail("'" + url + "': " + e.what());
  }
  return u;
}

}  // namespace

HttpsReply HttpsRequest(const std::string& method, const std::string& url,
                        const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body,
                        const HttpsOptions& options, Deadline deadline) {
  const Url u = ParseHttpsUrl(url);
  const std::string what = method + " " + url;
  std::string request = method + " " + u.path + " HTTP/1.1\r\nHost: " + u.authority +
                        "\r\nUser-Agent: xmpp_probe\r\nConnection: close\r\n";
  if (method == "PUT" || method == "POST" || !body.empty()) {
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  for (const auto& [name, value] : headers) {
    if (name.empty() || HasControl(name) || HasControl(value) || name.find(':') != std::string::npos) {
      Fail(what + ": refusing a header with control characters");
    }
    request += name + ": " + value + "\r\n";
  }
  request += "\r\n" + body;

  Connection conn;
  try {
    const auto pinned = options.resolve.find(u.host);
    conn.Connect(ResolveBefore(pinned == options.resolve.end() ? u.host : pinned->second, u.port, deadline), deadline,
                 options.source_address);
    conn.StartTls(options.tls, u.host, deadline);
    conn.Write(request, deadline);
  } catch (const ProbeError& e) {
    const Outcome o = e.outcome();
    if (o == Outcome::kConnectRefused || o == Outcome::kConnectError || o == Outcome::kClosed) {
      Fail(what + ": " + e.what());
    }
    throw ProbeError(o, what + ": " + e.what());
  }

  http::response_parser<http::string_body> parser;
  parser.eager(true);
  parser.header_limit(16 * 1024);
  parser.body_limit(options.max_body);
  if (method == "HEAD") parser.skip(true);
  std::string pending;
  boost::beast::error_code ec;
  // Bounded: every pass reads at least one byte or ends, and the reply is bounded above.
  for (int reads = 0; !parser.is_done() && reads < 100000; ++reads) {
    std::optional<std::string> data;
    try {
      data = conn.Read(deadline);
    } catch (const ProbeError& e) {
      if (e.outcome() != Outcome::kClosed) throw ProbeError(e.outcome(), what + ": " + e.what());
      parser.put_eof(ec);  // a reply delimited by the end of the connection
      if (ec) Fail(what + ": connection closed before the reply was complete (" + ec.message() + ")");
      break;
    }
    if (!data) throw ProbeError(Outcome::kTimeout, what + ": no complete reply before the deadline");
    pending += *data;
    while (!pending.empty() && !parser.is_done()) {
      const std::size_t used = parser.put(boost::asio::buffer(pending), ec);
      pending.erase(0, used);
      if (ec == http::error::need_more) break;
      if (ec) Fail(what + ": bad HTTP reply (" + ec.message() + ")");
      if (used == 0) break;
    }
  }
  conn.Close();
  if (!parser.is_done()) Fail(what + ": the reply did not end");
  HttpsReply reply;
  reply.status = static_cast<int>(parser.get().result_int());
  reply.body = std::move(parser.get().body());
  return reply;
}

}  // namespace xp
