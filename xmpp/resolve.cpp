// Name resolution for Connection: host:port splitting, getaddrinfo, and the same under a
// deadline (getaddrinfo itself has none and cannot be cancelled).
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <condition_variable>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#include "connection.h"
#include "outcome.h"

namespace xp {

std::pair<std::string, int> SplitHostPort(std::string_view target, int default_port) {
  std::string host;
  std::string_view rest;
  if (!target.empty() && target.front() == '[') {
    auto close = target.find(']');
    if (close == std::string_view::npos)
      throw ProbeError(Outcome::kConfigError, "target '" + std::string(target) + "': missing ']'");
    host = std::string(target.substr(1, close - 1));
    rest = target.substr(close + 1);
  } else {
    auto colon = target.rfind(':');
    host = std::string(target.substr(0, colon));
    if (colon != std::string_view::npos) rest = target.substr(colon);
  }
  if (host.empty()) throw ProbeError(Outcome::kConfigError, "target '" + std::string(target) + "': empty host");
  if (rest.empty()) return {host, default_port};
  if (rest.front() != ':' || rest.size() < 2)
    throw ProbeError(Outcome::kConfigError, "target '" + std::string(target) + "': bad port");
  int port = 0;
  for (char c : rest.substr(1)) {
    if (c < '0' || c > '9' || port > 65535)
      throw ProbeError(Outcome::kConfigError, "target '" + std::string(target) + "': bad port");
    port = port * 10 + (c - '0');
  }
  if (port <= 0 || port > 65535)
    throw ProbeError(Outcome::kConfigError, "target '" + std::string(target) + "': port out of range");
  return {host, port};
}

std::vector<Endpoint> Resolve(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (rc != 0) throw ProbeError(Outcome::kDnsError, "resolving '" + host + "': " + gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(res, freeaddrinfo);
  std::vector<Endpoint> out;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    Endpoint ep;
    std::memcpy(&ep.addr, ai->ai_addr, ai->ai_addrlen);
    ep.len = ai->ai_addrlen;
    char buf[INET6_ADDRSTRLEN] = {};
    const void* src = ai->ai_family == AF_INET6
                          ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr)
                          : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr);
    inet_ntop(ai->ai_family, src, buf, sizeof buf);
    ep.text =
        (ai->ai_family == AF_INET6 ? "[" + std::string(buf) + "]" : std::string(buf)) + ":" + std::to_string(port);
    out.push_back(std::move(ep));
  }
  if (out.empty()) throw ProbeError(Outcome::kDnsError, "resolving '" + host + "': no addresses");
  return out;
}

namespace {
// What the waiting caller and the helper thread share; the helper may outlive the caller.
struct ResolveState {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::vector<Endpoint> endpoints;
  std::exception_ptr error;
};

bool IsLiteralAddress(const std::string& host) {
  in6_addr ip6;
  in_addr ip4;
  return inet_pton(AF_INET, host.c_str(), &ip4) == 1 || inet_pton(AF_INET6, host.c_str(), &ip6) == 1;
}
}  // namespace

std::vector<Endpoint> ResolveBefore(const std::string& host, int port, Deadline deadline,
                                    const std::function<std::vector<Endpoint>(const std::string&, int)>& resolver) {
  if (!resolver && IsLiteralAddress(host)) return Resolve(host, port);
  auto state = std::make_shared<ResolveState>();
  auto fn = resolver ? resolver : [](const std::string& h, int p) { return Resolve(h, p); };
  // Detached: glibc's getaddrinfo cannot be cancelled, so the only bound on the caller is not
  // waiting for it. The thread owns copies of everything it touches.
  std::thread([state, fn, host, port] {
    std::vector<Endpoint> endpoints;
    std::exception_ptr error;
    try {
      endpoints = fn(host, port);
    } catch (...) {
      error = std::current_exception();
    }
    std::lock_guard lock(state->mu);
    state->endpoints = std::move(endpoints);
    state->error = error;
    state->done = true;
    state->cv.notify_all();
  }).detach();
  std::unique_lock lock(state->mu);
  if (!state->cv.wait_until(lock, deadline, [&] { return state->done; })) {
    throw ProbeError(Outcome::kDnsTimeout, "resolving '" + host + "' did not finish before the deadline");
  }
  if (state->error) std::rethrow_exception(state->error);
  return std::move(state->endpoints);
}

}  // namespace xp
