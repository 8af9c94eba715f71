// The HTTP(S) server the daemons use for /metrics, /probe and the relay's /alert.
//
// Built on Boost.Beast (header-only, asynchronous) rather than prometheus-cpp's civetweb
// Exposer: Debian's civetweb dlopen()s OpenSSL and calls a symbol OpenSSL 3 no longer exports,
// so its first TLS request segfaults. Beast links OpenSSL at build time; being asynchronous,
// an idle or slow client costs a socket and a timer, not a worker, so it cannot hold up a
// scrape; and stop() is immediate. (cpp-httplib was tried first: its shared library starts
// OpenSSL at load time, 3.7 MiB of RSS even with TLS off.)
//
// Hardening, each with a test in tests/unit/http_server_*test.cpp:
// - a request with a Content-Encoding other than identity is refused with 415 before its body
//   is read: nothing is ever decompressed, so a body limit is a limit on memory;
// - bodies only on routes registered with a body_limit (413 above it), headers up to
//   header_limit (431 above it), 405 with Allow for a method the path does not serve;
// - the header must arrive within read_timeout and the body within body_timeout of the
//   header, whatever the client's pace (a client dribbling a byte a second is cut off);
// - at most max_connections at a time: further connections are accepted and closed at once
//   (never a busy loop; the listen backlog is not left to fill up);
// - accept errors (EMFILE, ENFILE) back off 100 ms and are logged once per burst;
// - bcrypt checks (basic auth) and routes marked blocking run on a worker pool, never on the
//   I/O thread, so /metrics answers while a /probe or a login attempt runs;
// - handler exceptions are logged and answered "internal error", never echoed.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>  // kept: callers have relied on it through this header
#include <utility>
#include <vector>

#include "listen_address.h"
#include "web_config.h"

namespace xw {

enum class HttpMethod { kGet, kPost, kPut, kDelete };  // kGet serves HEAD as well

struct HttpRequest {
  std::string path;
  std::multimap<std::string, std::string> params;
  std::string accept;
  std::string Param(const std::string& key) const;

  HttpMethod method = HttpMethod::kGet;
  std::string body;          // empty unless the route has a body_limit
  std::string content_type;  // the request's Content-Type
  std::string remote;        // the peer's IP address, for logs
  // X-Prometheus-Scrape-Timeout-Seconds as sent by Prometheus (its scrape_timeout), when
  // present and a positive finite number. /probe uses it to finish before Prometheus gives up.
  std::optional<double> scrape_timeout_seconds;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

struct HttpServerOptions {
  ListenAddress address;
  WebConfig web;
  // Threads running the event loop (I/O, parsing, non-blocking handlers). Idle connections do
  // not occupy them. One is the default: a second thread cost 40% more system CPU per scrape
  // in futex hand-offs, and Prometheus scrapes one at a time.
  int workers = 1;
  // Threads for blocking routes and bcrypt checks. A blocking handler occupies one for its
  // whole run; when all are busy, further blocking requests wait in a queue (their own
  // deadlines still apply on the client side).
  int blocking_workers = 4;
  // An idle keep-alive connection is closed after this (Prometheus scrapes every 15 s and
  // reconnects cheaply).
  std::chrono::seconds keep_alive_timeout{30};
  // The whole request header must arrive within this, counted from the connection (or, on a
  // kept-alive connection, from its first byte).
  std::chrono::seconds read_timeout{5};
  // The whole body must arrive within this of the header.
  std::chrono::seconds body_timeout{10};
  std::chrono::seconds write_timeout{5};
  std::size_t header_limit = 16 * 1024;
  std::size_t max_connections = 512;
};

struct RouteOptions {
  HttpMethod method = HttpMethod::kGet;
  // Largest request body accepted, in bytes, as sent (compressed bodies are refused, see
  // above). 0: the route takes no body (a GET).
  std::size_t body_limit = 0;
  // The handler may block (network I/O, a whole XMPP login): it runs on the worker pool.
  bool blocking = false;
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Registers a GET (and HEAD) handler for an exact path, run on the I/O thread: it must not
  // block. Call before Start().
  void Handle(const std::string& path, Handler handler);
  // Registers a handler for (options.method, path). Several methods may share a path; others
  // get 405 with Allow. Call before Start(). Example, the relay's webhook:
  //   server.Handle("/alert", {.method = HttpMethod::kPost, .body_limit = 4 << 20, .blocking = true}, f);
  void Handle(const std::string& path, RouteOptions options, Handler handler);
  // Shorthand for a GET route that blocks (the probe's /probe).
  void HandleBlocking(const std::string& path, Handler handler) {
    Handle(path, RouteOptions{.method = HttpMethod::kGet, .body_limit = 0, .blocking = true}, std::move(handler));
  }

  // Binds and starts serving on background threads. Throws ConfigError when the address
  // cannot be bound (the message names the address).
  void Start();
  void Stop();
  int port() const { return bound_port_; }

  // Re-reads the web-config file (the daemons call it on SIGHUP), validates it and builds its
  // TLS context, then swaps TLS context, users and headers at once; connections accepted from
  // then on use the new set, open ones finish with the old. On any error (the same
  // ConfigError LoadWebConfig or the constructor throws, or a reload that would switch TLS on
  // or off, which needs a restart) the old configuration stays in force and the ConfigError is
  // thrown for the caller to log. Thread-safe; callable before or after Start().
  void ReloadWebConfig(const std::string& path);
  // The same with a configuration already loaded (tests, callers holding one in memory).
  void ReloadWebConfig(WebConfig web);

  struct Shared;

 private:
  struct Impl;
  void Accept();
  void AcceptLater();

  std::shared_ptr<Shared> shared_;
  std::unique_ptr<Impl> impl_;
  int bound_port_ = 0;
};

}  // namespace xw
