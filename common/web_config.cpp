#include "web_config.h"

#include <yaml-cpp/yaml.h>

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

bool IsBcrypt(const std::string& hash) {
  return hash.size() == 60 && hash[0] == '$' && hash[1] == '2' &&
         (hash[2] == 'a' || hash[2] == 'b' || hash[2] == 'y') && hash[3] == '$';
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

  if (const auto tls = root["tls_server_config"]; tls && !tls.IsNull()) {
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
    if (cfg.tls.client_auth_type.find("Verify") != std::string::npos && cfg.tls.client_ca_file.empty()) {
      throw ConfigError(path + ": client_auth_type " + cfg.tls.client_auth_type + " needs client_ca_file");
    }
    cfg.tls_enabled = !cfg.tls.cert_file.empty();
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
    // http2 is a Go server switch and headers are rarely used: accepted so shared files load, then ignored.
    RejectUnknownKeys(http, {"http2", "headers"}, "http_server_config", path);
  }
  return cfg;
}

}  // namespace xw
