#include "web_config.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <filesystem>
#include <set>

namespace xw {
namespace {

void RejectUnknownKeys(const YAML::Node& node, const std::set<std::string>& known, const std::string& where,
                       const std::string& file) {
  for (const auto& kv : node) {
    const auto key = kv.first.as<std::string>();
    if (!known.contains(key)) {
      throw ConfigError(file + ": unknown key '" + key + "' in " + where);
    }
  }
}

std::string Resolve(const std::string& value, const std::filesystem::path& base) {
  if (value.empty()) return value;
  std::filesystem::path p(value);
  return p.is_absolute() ? value : (base / p).string();
}

std::string ScalarOrThrow(const YAML::Node& node, const std::string& key, const std::string& file) {
  if (!node.IsScalar()) throw ConfigError(file + ": '" + key + "' must be a string");
  return node.as<std::string>();
}

// "$2b$10$" + 53 characters of bcrypt's base64 alphabet, cost 04..31: what bcrypt.Cost()
// accepts in the toolkit.
bool IsBcrypt(const std::string& hash) {
  if (hash.size() != 60 || hash[0] != '$' || hash[1] != '2' || hash[3] != '$' || hash[6] != '$') return false;
  if (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') return false;
  if (!std::isdigit(static_cast<unsigned char>(hash[4])) || !std::isdigit(static_cast<unsigned char>(hash[5]))) {
    return false;
  }
  const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < 4 || cost > 31) return false;
  for (std::size_t i = 7; i < hash.size(); ++i) {
    const char c = hash[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '/') return false;
  }
  return true;
}

// The toolkit's extraHTTPHeaders: the only response headers a web config may set, and for two
// of them the only values (an empty list: any value).
const std::map<std::string, std::set<std::string>>& AllowedHeaders() {
  static const std::map<std::string, std::set<std::string>> kAllowed{
      {"Strict-Transport-Security", {}},
      {"X-Content-Type-Options", {"nosniff"}},
      {"X-Frame-Options", {"deny", "sameorigin"}},
      {"X-XSS-Protection", {}},
      {"Content-Security-Policy", {}},
  };
  return kAllowed;
}

int VersionRank(const std::string& v) {
  return v.empty() ? 99 : v.back() - '0';
}

}  // namespace

WebConfig LoadWebConfig(const std::string& path) {
  WebConfig cfg;
  if (path.empty()) return cfg;
  if (!std::filesystem::exists(path)) throw ConfigError(path + ": web config file does not exist");
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw ConfigError(path + ": not valid YAML: " + e.what());
  }
  if (root.IsNull()) return cfg;
  if (!root.IsMap()) throw ConfigError(path + ": top level must be a mapping");
  RejectUnknownKeys(root, {"tls_server_config", "basic_auth_users", "http_server_config"}, "the top level", path);
  const auto base = std::filesystem::path(path).parent_path();

  // An empty tls_server_config means no TLS, as in the toolkit; any key in it means TLS.
  if (const auto tls = root["tls_server_config"]; tls && !tls.IsNull() && !(tls.IsMap() && tls.size() == 0)) {
    if (!tls.IsMap()) throw ConfigError(path + ": tls_server_config must be a mapping");
    RejectUnknownKeys(tls,
                      {"cert_file", "key_file", "client_ca_file", "client_auth_type", "min_version", "max_version",
                       "cipher_suites", "prefer_server_cipher_suites", "curve_preferences", "client_allowed_sans"},
                      "tls_server_config", path);
    for (const char* k : {"cipher_suites", "curve_preferences", "client_allowed_sans"}) {
      if (tls[k]) throw ConfigError(path + ": tls_server_config." + k + " is not supported by xmppwatch");
    }
    auto get = [&](const char* k) { return tls[k] ? ScalarOrThrow(tls[k], k, path) : std::string(); };
    cfg.tls.cert_file = Resolve(get("cert_file"), base);
    cfg.tls.key_file = Resolve(get("key_file"), base);
    cfg.tls.client_ca_file = Resolve(get("client_ca_file"), base);
    if (auto t = get("client_auth_type"); !t.empty()) cfg.tls.client_auth_type = t;
    if (auto v = get("min_version"); !v.empty()) cfg.tls.min_version = v;
    cfg.tls.max_version = get("max_version");
    if (cfg.tls.cert_file.empty() != cfg.tls.key_file.empty()) {
      throw ConfigError(path + ": tls_server_config needs both cert_file and key_file");
    }
    static const std::set<std::string> kAuthTypes{"NoClientCert", "RequestClientCert", "RequireAnyClientCert",
                                                  "VerifyClientCertIfGiven", "RequireAndVerifyClientCert"};
    if (!kAuthTypes.contains(cfg.tls.client_auth_type)) {
      throw ConfigError(path + ": tls_server_config.client_auth_type '" + cfg.tls.client_auth_type + "' is unknown");
    }
    static const std::set<std::string> kVersions{"TLS10", "TLS11", "TLS12", "TLS13"};
    for (const auto* v : {&cfg.tls.min_version, &cfg.tls.max_version}) {
      if (!v->empty() && !kVersions.contains(*v)) {
        throw ConfigError(path + ": TLS version '" + *v + "' is unknown (TLS10..TLS13)");
      }
    }
    if (VersionRank(cfg.tls.min_version) > VersionRank(cfg.tls.max_version)) {
      throw ConfigError(path + ": tls_server_config.min_version " + cfg.tls.min_version + " is above max_version " +
                        cfg.tls.max_version);
    }
    if (cfg.tls.client_auth_type.find("Verify") != std::string::npos && cfg.tls.client_ca_file.empty()) {
      throw ConfigError(path + ": client_auth_type " + cfg.tls.client_auth_type + " needs client_ca_file");
    }
    if (!cfg.tls.client_ca_file.empty() && cfg.tls.client_auth_type == "NoClientCert") {
      throw ConfigError(path + ": client_ca_file is set but client_auth_type is NoClientCert (set a client_auth_type)");
    }
    // Any TLS setting without a certificate would otherwise mean plain HTTP: the operator
    // asked for TLS, so refuse to start rather than serve in clear.
    if (cfg.tls.cert_file.empty()) {
      throw ConfigError(path + ": tls_server_config needs both cert_file and key_file (refusing to serve plain HTTP)");
    }
    cfg.tls_enabled = true;
  }

  if (const auto users = root["basic_auth_users"]; users && !users.IsNull()) {
    if (!users.IsMap()) throw ConfigError(path + ": basic_auth_users must be a mapping of user to bcrypt hash");
    for (const auto& kv : users) {
      const auto user = kv.first.as<std::string>();
      const auto hash = ScalarOrThrow(kv.second, "basic_auth_users." + user, path);
      if (!IsBcrypt(hash)) {
        throw ConfigError(path + ": basic_auth_users." + user + " is not a bcrypt hash ($2a$/$2b$/$2y$)");
      }
      cfg.basic_auth_users.emplace(user, hash);
    }
  }
  if (const auto http = root["http_server_config"]; http && !http.IsNull()) {
    if (!http.IsMap()) throw ConfigError(path + ": http_server_config must be a mapping");
    RejectUnknownKeys(http, {"http2", "headers"}, "http_server_config", path);
    if (const auto h2 = http["http2"]; h2 && !h2.IsNull()) {
      try {
        cfg.http2 = h2.as<bool>();
      } catch (const YAML::Exception&) {
        throw ConfigError(path + ": http_server_config.http2 must be true or false");
      }
    }
    if (const auto headers = http["headers"]; headers && !headers.IsNull()) {
      if (!headers.IsMap()) throw ConfigError(path + ": http_server_config.headers must be a mapping");
      for (const auto& kv : headers) {
        const auto name = kv.first.as<std::string>();
        const auto value = ScalarOrThrow(kv.second, "http_server_config.headers." + name, path);
        const auto allowed = AllowedHeaders().find(name);
        if (allowed == AllowedHeaders().end()) {
          throw ConfigError(path + ": http_server_config.headers: HTTP header '" + name + "' can not be configured");
        }
        if (!allowed->second.empty() && !allowed->second.contains(value)) {
          throw ConfigError(path + ": http_server_config.headers: invalid value '" + value + "' for " + name);
        }
        if (value.find_first_of("\r\n") != std::string::npos) {
          throw ConfigError(path + ": http_server_config.headers." + name + " contains a line break");
        }
        cfg.headers.emplace(name, value);
      }
    }
  }
  return cfg;
}

}  // namespace xw
