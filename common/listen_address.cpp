#include "listen_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>

namespace xw {

std::string ListenAddress::ToString() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

ListenAddress ParseListenAddress(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) {
    throw ConfigError("listen address '" + text + "' has no port (expected host:port or :port)");
  }
  ListenAddress addr;
  addr.host = text.substr(0, colon);
  if (addr.host.size() >= 2 && addr.host.front() == '[' && addr.host.back() == ']') {
    addr.host = addr.host.substr(1, addr.host.size() - 2);
  } else if (addr.host.find(':') != std::string::npos) {
    throw ConfigError("listen address '" + text + "': IPv6 hosts need brackets, e.g. [::1]:9100");
  }
  if (addr.host.empty()) addr.host = "0.0.0.0";
  const std::string port = text.substr(colon + 1);
  const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), addr.port);
  if (ec != std::errc() || ptr != port.data() + port.size() || addr.port < 0 || addr.port > 65535) {
    throw ConfigError("listen address '" + text + "': port '" + port + "' is not a number in 0..65535");
  }
  return addr;
}

SocketAddress ToSocketAddress(const ListenAddress& address) {
  if (address.port < 0 || address.port > 65535) {
    throw ConfigError("address " + address.ToString() + ": port out of range");
  }
  SocketAddress out;
  const auto port = htons(static_cast<uint16_t>(address.port));
  if (address.host.find(':') != std::string::npos) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = port;
    if (::inet_pton(AF_INET6, address.host.c_str(), &s6->sin6_addr) != 1) {
      throw ConfigError("address " + address.ToString() + ": '" + address.host + "' is not an IPv6 address");
    }
    out.length = sizeof(sockaddr_in6);
  } else {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&out.storage);
    s4->sin_family = AF_INET;
    s4->sin_port = port;
    if (::inet_pton(AF_INET, address.host.c_str(), &s4->sin_addr) != 1) {
      throw ConfigError("address " + address.ToString() + ": '" + address.host + "' is not an IPv4 address");
    }
    out.length = sizeof(sockaddr_in);
  }
  return out;
}

int PortOf(const sockaddr_storage& storage) {
  if (storage.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  if (storage.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  return 0;
}

}  // namespace xw
