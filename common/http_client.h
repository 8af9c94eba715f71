// A minimal HTTP/1.1 client for loopback APIs (ejabberd's mod_http_api), with one deadline
// for the whole exchange so a hung server costs at most that long.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

namespace xw {

struct HttpError : std::runtime_error {
  // "connect" (refused/unreachable), "timeout", "io", "url": what went wrong, for
  // metrics labels; the message says the rest.
  std::string reason;
  HttpError(std::string why, const std::string& what) : std::runtime_error(what), reason(std::move(why)) {}
};

struct HttpReply {
  int status = 0;
  std::string body;
};

// POSTs `body` (JSON) to an http:// URL. Throws HttpError; any HTTP status is a reply.
HttpReply HttpPostJson(const std::string& url, const std::string& body, std::chrono::milliseconds timeout);

// The same exchange with any method ("GET", "POST", "DELETE", ...): a JSON body is sent when
// not empty (REST APIs such as Alertmanager's /api/v2). Throws HttpError like HttpPostJson.
HttpReply HttpRequestJson(const std::string& method, const std::string& url, const std::string& body,
                          std::chrono::milliseconds timeout);

}  // namespace xw
