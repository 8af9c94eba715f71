// The HTTP(S) server both daemons use for /metrics and /probe.
//
// Built on Boost.Beast (header-only, asynchronous) rather than prometheus-cpp's civetweb
// Exposer: Debian's civetweb dlopen()s OpenSSL and calls a symbol OpenSSL 3 no longer exports,
// so its first TLS request segfaults. Beast links OpenSSL at build time; being asynchronous,
// an idle or slow client costs a socket and a timer, not a worker, so it cannot hold up a
// scrape; and stop() is immediate. (cpp-httplib was tried first: its shared library starts
// OpenSSL at load time, 3.7 MiB of RSS even with TLS off.)
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "web_config.h"

namespace xw {

struct ListenAddress {
  std::string host;  // "0.0.0.0" for ":port"; IPv6 without brackets
  int port = 0;
  std::string ToString() const;
};
// Parses "host:port", ":port" or "[v6]:port"; throws ConfigError naming the value.
ListenAddress ParseListenAddress(const std::string& text);

struct HttpRequest {
  std::string path;
  std::multimap<std::string, std::string> params;
  std::string accept;
  std::string Param(const std::string& key) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

struct HttpServerOptions {
  ListenAddress address;
  WebConfig web;
  // Threads running the event loop and handlers. Idle connections do not occupy them. One is
  // the default: a second thread cost 40% more system CPU per scrape in futex hand-offs, and
  // Prometheus scrapes one at a time; more let a scrape proceed while another waits on a
  // stuck mount.
  int workers = 1;
  // An idle keep-alive connection is closed after this (Prometheus scrapes every 15 s and
  // reconnects cheaply).
  std::chrono::seconds keep_alive_timeout{30};
  std::chrono::seconds read_timeout{5};
  std::chrono::seconds write_timeout{5};
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Registers a GET handler for an exact path. Call before Start().
  void Handle(const std::string& path, Handler handler);
  // Binds and starts serving on a background thread. Throws ConfigError when TLS material
  // cannot be loaded or the address cannot be bound (the message names the address).
  void Start();
  void Stop();
  int port() const { return bound_port_; }

  struct Shared;

 private:
  struct Impl;
  void Accept();

  std::shared_ptr<Shared> shared_;
  std::unique_ptr<Impl> impl_;
  int bound_port_ = 0;
};

}  // namespace xw
