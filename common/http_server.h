// The HTTP(S) server both daemons use for /metrics and /probe.
//
// Built on cpp-httplib rather than prometheus-cpp's civetweb Exposer: Debian's civetweb
// dlopen()s OpenSSL and calls a symbol OpenSSL 3 no longer exports, so its first TLS request
// segfaults. cpp-httplib links OpenSSL at build time, and its thread pool, keep-alive and
// read/write timeouts give us control over slow clients.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "web_config.h"

namespace httplib {
class Server;
}

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
  // Enough workers that a handful of idle or slow clients cannot hold every one of them
  // (civetweb's default of 2 stalls every scrape behind two idle connections).
  int workers = 16;
  // An idle keep-alive connection is dropped after this; it also bounds how long stop()
  // waits for a worker parked on an idle connection.
  std::chrono::seconds keep_alive_timeout{1};
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

 private:
  HttpServerOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int bound_port_ = 0;
};

}  // namespace xw
