// Listen addresses ("host:port", ":port", "[v6]:port") and their conversion to a socket
// address, so every daemon and collector binds the same way instead of filling sockaddr_in
// by hand.
#pragma once

#include <sys/socket.h>

#include <string>

#include "web_config.h"  // ConfigError

namespace xw {

struct ListenAddress {
  std::string host;  // "0.0.0.0" for ":port"; IPv6 without brackets
  int port = 0;
  std::string ToString() const;
};

// Parses "host:port", ":port" or "[v6]:port"; throws ConfigError naming the value.
ListenAddress ParseListenAddress(const std::string& text);

// A numeric socket address ready for bind(2) or connect(2):
//   const SocketAddress sa = ToSocketAddress(addr);
//   int fd = ::socket(sa.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
//   ::bind(fd, sa.get(), sa.length);
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family() const { return storage.ss_family; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// Host must be an IPv4 or IPv6 literal (no name resolution: a listen address that depends on
// DNS would bind somewhere else when DNS changes). Throws ConfigError naming the address.
SocketAddress ToSocketAddress(const ListenAddress& address);

// The port a socket address holds (after getsockname(2) on a socket bound to port 0).
int PortOf(const sockaddr_storage& storage);

}  // namespace xw
