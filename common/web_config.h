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
};

// Loads and validates a web-config file. Unknown keys are errors (the toolkit is strict too),
// relative cert paths are taken from the file's directory. Throws ConfigError naming the file
// and the offending key. An empty path gives the default (plain HTTP, no auth).
WebConfig LoadWebConfig(const std::string& path);

}  // namespace xw
