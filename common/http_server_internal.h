// What http_server.cpp (listening, configuration) and http_session.cpp (one connection) share.
// Not part of the library's interface.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <map>
#include <memory>
#include <mutex>

#include "basic_auth.h"
#include "http_server.h"

namespace xw {

// One web configuration in force: swapped whole by ReloadWebConfig, held by each connection
// for its lifetime so a reload never changes a connection mid-way.
struct ActiveWebConfig {
  WebConfig web;
  std::shared_ptr<boost::asio::ssl::context> tls;  // null: plain HTTP
  std::shared_ptr<BasicAuthenticator> auth;
};

// Builds the TLS context and authenticator; throws ConfigError naming the file at fault.
std::shared_ptr<const ActiveWebConfig> BuildWebConfig(WebConfig web);

struct Route {
  RouteOptions options;
  HttpServer::Handler handler;
};

struct HttpServer::Shared {
  explicit Shared(HttpServerOptions o, std::shared_ptr<const ActiveWebConfig> c)
      : options(std::move(o)), config(std::move(c)) {}

  const HttpServerOptions options;
  std::map<std::string, std::map<HttpMethod, Route>> routes;  // path -> method -> route
  std::unique_ptr<boost::asio::thread_pool> pool;             // blocking routes, bcrypt
  std::atomic<std::size_t> connections{0};

  std::shared_ptr<const ActiveWebConfig> Config() const {
    std::lock_guard lock(mu);
    return config;
  }
  void SetConfig(std::shared_ptr<const ActiveWebConfig> c) {
    std::lock_guard lock(mu);
    config = std::move(c);
  }

 private:
  mutable std::mutex mu;
  std::shared_ptr<const ActiveWebConfig> config;
};

// Counts a connection for max_connections while it lives.
class ConnectionSlot {
 public:
  explicit ConnectionSlot(std::shared_ptr<HttpServer::Shared> s) : shared_(std::move(s)) { ++shared_->connections; }
  ~ConnectionSlot() { --shared_->connections; }
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;

 private:
  std::shared_ptr<HttpServer::Shared> shared_;
};

// Serves one accepted connection until it closes (TLS when config->tls is set).
void StartSession(boost::asio::ip::tcp::socket socket, std::shared_ptr<HttpServer::Shared> shared,
                  std::shared_ptr<const ActiveWebConfig> config);

}  // namespace xw
