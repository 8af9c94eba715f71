// The Prometheus exporter toolkit's web-config file (--web.config.file): TLS server settings
// and basic-auth users with bcrypt hashes. Same YAML keys, so one file serves node_exporter,
// our exporter and our probe alike.
#pragma once

#include <map>
#include <stdexcept>
#include <string>

namespace xw {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct TlsServerConfig {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;
  // NoClientCert (default), RequireAnyClientCert, VerifyClientCertIfGiven,
  // RequireAndVerifyClientCert: the toolkit's names.
  std::string client_auth_type = "NoClientCert";
  std::string min_version = "TLS12";
  std::string max_version;
};

struct WebConfig {
  bool tls_enabled = false;
  TlsServerConfig tls;
  std::map<std::string, std::string> basic_auth_users;  // user -> bcrypt hash
  // http_server_config.headers: added to every response. Only the names the toolkit allows
  // (Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options, X-XSS-Protection,
  // Content-Security-Policy), with its value checks.
  std::map<std::string, std::string> headers;
  // http_server_config.http2: accepted for files shared with Go exporters; this server only
  // speaks HTTP/1.1, so false changes nothing and true (the default) is not an error.
  bool http2 = true;
};

// Loads and validates a web-config file; fails closed. Unknown keys, a tls_server_config
// without both cert_file and key_file, a client_auth_type that verifies client certificates
// without client_ca_file, client_ca_file without a client_auth_type, unknown TLS versions or
// min_version above max_version, a user whose hash is not bcrypt, a header the toolkit does
// not allow: each is a ConfigError naming the file and the key, never a silent fallback to
// plain HTTP or open access. Relative paths are taken from the file's directory. An empty
// path gives the default (plain HTTP, no auth).
WebConfig LoadWebConfig(const std::string& path);

}  // namespace xw
