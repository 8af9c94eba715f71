#include "scram.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <atomic>
#include <charconv>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

#include "outcome.h"

namespace xp {

namespace {

const EVP_MD* Md(ScramHash hash) {
  return hash == ScramHash::kSha1 ? EVP_sha1() : EVP_sha256();
}

// RFC 5802 5.1: ',' and '=' in a user name are escaped as =2C and =3D.
std::string EscapeUser(std::string_view user) {
  std::string out;
  for (char c : user) {
    if (c == ',')
      out += "=2C";
    else if (c == '=')
      out += "=3D";
    else
      out += c;
  }
  return out;
}

std::string XorBytes(std::string a, std::string_view b) {
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) a[i] = static_cast<char>(a[i] ^ b[i]);
  return a;
}

std::string RandomNonce() {
  unsigned char raw[18];
  if (RAND_bytes(raw, sizeof raw) != 1) throw ProbeError(Outcome::kAuthFailed, "RAND_bytes failed");
  return Base64Encode(std::string_view(reinterpret_cast<char*>(raw), sizeof raw));
}

// Splits "a=x,b=y" into attributes; values may contain '=' but not ','.
std::vector<std::pair<char, std::string_view>> SplitAttrs(std::string_view msg) {
  std::vector<std::pair<char, std::string_view>> out;
  while (!msg.empty()) {
    auto comma = msg.find(',');
    std::string_view part = msg.substr(0, comma);
    if (part.size() < 2 || part[1] != '=') {
      throw ProbeError(Outcome::kProtocolError, "SCRAM attribute without key=value form");
    }
    out.emplace_back(part[0], part.substr(2));
    if (comma == std::string_view::npos) break;
    msg.remove_prefix(comma + 1);
    if (msg.empty()) throw ProbeError(Outcome::kProtocolError, "SCRAM message ends with ','");
  }
  return out;
}

std::atomic<bool> g_cache_on{false};
std::mutex g_cache_mu;
std::map<std::tuple<int, std::string, std::string, int>, std::string> g_cache;  // bounded below

}  // namespace

void ScramClient::EnableSaltedPasswordCache(bool on) {
  g_cache_on = on;
}

std::string Base64Encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) throw ProbeError(Outcome::kProtocolError, "base64 length not a multiple of 4");
  for (char c : text) {
    bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
    if (!ok) throw ProbeError(Outcome::kProtocolError, "invalid base64 character");
  }
  std::string out(3 * text.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) throw ProbeError(Outcome::kProtocolError, "invalid base64");
  // EVP_DecodeBlock keeps the padding bytes as zeros: drop one per '='.
  std::size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

ServerFirst ParseServerFirst(std::string_view message) {
  ServerFirst sf;
  bool have_s = false;
  for (auto [key, value] : SplitAttrs(message)) {
    if (key == 'm') throw ProbeError(Outcome::kProtocolError, "SCRAM mandatory extension not supported");
    if (key == 'r') sf.nonce = std::string(value);
    if (key == 's') {
      sf.salt = Base64Decode(value);
      have_s = true;
    }
    if (key == 'i') {
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), sf.iterations);
      if (ec != std::errc() || ptr != value.data() + value.size() || sf.iterations <= 0) {
        throw ProbeError(Outcome::kProtocolError, "SCRAM iteration count is not a positive number");
      }
    }
  }
  if (sf.nonce.empty() || !have_s || sf.iterations == 0) {
    throw ProbeError(Outcome::kProtocolError, "SCRAM server-first lacks r, s or i");
  }
  return sf;
}

std::string ParseServerFinal(std::string_view message) {
  auto attrs = SplitAttrs(message);
  if (attrs.empty()) throw ProbeError(Outcome::kProtocolError, "empty SCRAM server-final");
  if (attrs[0].first == 'e')
    throw ProbeError(Outcome::kAuthFailed, "SCRAM server error: " + std::string(attrs[0].second));
  if (attrs[0].first != 'v') throw ProbeError(Outcome::kProtocolError, "SCRAM server-final without verifier");
  return Base64Decode(attrs[0].second);
}

ScramClient::ScramClient(ScramHash hash, std::string user, std::string password, std::string cnonce)
    : hash_(hash), user_(std::move(user)), password_(std::move(password)), cnonce_(std::move(cnonce)) {
  if (cnonce_.empty()) cnonce_ = RandomNonce();
}

ScramClient::~ScramClient() {
  OPENSSL_cleanse(password_.data(), password_.size());
}

std::string_view ScramClient::MechanismName(ScramHash hash) {
  return hash == ScramHash::kSha1 ? "SCRAM-SHA-1" : "SCRAM-SHA-256";
}

void ScramClient::SetChannelBinding(CbFlag flag, const std::string& type, std::string data) {
  switch (flag) {
    case CbFlag::kNone:
      gs2_header_ = "n,,";
      break;
    case CbFlag::kSupported:
      gs2_header_ = "y,,";
      break;
    case CbFlag::kBound:
      gs2_header_ = "p=" + type + ",,";
      break;
  }
  cb_data_ = flag == CbFlag::kBound ? std::move(data) : std::string();
}

std::string ScramClient::ClientFirst() {
  client_first_bare_ = "n=" + EscapeUser(user_) + ",r=" + cnonce_;
  return gs2_header_ + client_first_bare_;
}

std::string ScramClient::Hmac(std::string_view key, std::string_view data) const {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(Md(hash_), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string ScramClient::Hash(std::string_view data) const {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, Md(hash_), nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string ScramClient::ClientFinal(std::string_view server_first, int max_iterations, int min_iterations) {
  ServerFirst sf = ParseServerFirst(server_first);
  if (sf.nonce.size() <= cnonce_.size() || sf.nonce.compare(0, cnonce_.size(), cnonce_) != 0) {
    throw ProbeError(Outcome::kProtocolError, "SCRAM server nonce does not extend ours");
  }
  if (sf.iterations > max_iterations) {
    throw ProbeError(Outcome::kProtocolError, "SCRAM iteration count " + std::to_string(sf.iterations) + " too high");
  }
  if (sf.iterations < min_iterations) {
    throw ProbeError(Outcome::kScramIterationsTooLow, "SCRAM iteration count " + std::to_string(sf.iterations) +
                                                          " below " + std::to_string(min_iterations));
  }
  const EVP_MD* md = Md(hash_);
  std::string salted(static_cast<std::size_t>(EVP_MD_get_size(md)), '\0');
  auto key = std::make_tuple(static_cast<int>(hash_), password_, sf.salt, sf.iterations);
  bool cached = false;
  if (g_cache_on) {
    std::lock_guard lock(g_cache_mu);
    if (auto it = g_cache.find(key); it != g_cache.end()) {
      salted = it->second;
      cached = true;
    }
  }
  if (!cached && PKCS5_PBKDF2_HMAC(password_.data(), static_cast<int>(password_.size()),
                                   reinterpret_cast<const unsigned char*>(sf.salt.data()),
                                   static_cast<int>(sf.salt.size()), sf.iterations, md, static_cast<int>(salted.size()),
                                   reinterpret_cast<unsigned char*>(salted.data())) != 1) {
    throw ProbeError(Outcome::kAuthFailed, "PBKDF2 failed");
  }
  if (g_cache_on && !cached) {
    std::lock_guard lock(g_cache_mu);
    if (g_cache.size() > 64) g_cache.clear();
    g_cache[key] = salted;
  }
  std::string client_key = Hmac(salted, "Client Key");
  std::string stored_key = Hash(client_key);
  // c= repeats the gs2 header (and the binding bytes): a flag or binding altered on the way
  // breaks the proof.
  std::string without_proof = "c=" + Base64Encode(gs2_header_ + cb_data_) + ",r=" + sf.nonce;
  std::string auth_message = client_first_bare_ + "," + std::string(server_first) + "," + without_proof;
  std::string signature = Hmac(stored_key, auth_message);
  std::string proof = XorBytes(client_key, signature);
  server_signature_ = Hmac(Hmac(salted, "Server Key"), auth_message);
  OPENSSL_cleanse(salted.data(), salted.size());
  return without_proof + ",p=" + Base64Encode(proof);
}

void ScramClient::VerifyServerFinal(std::string_view server_final) const {
  std::string verifier = ParseServerFinal(server_final);
  if (server_signature_.empty() || verifier.size() != server_signature_.size() ||
      CRYPTO_memcmp(verifier.data(), server_signature_.data(), verifier.size()) != 0) {
    throw ProbeError(Outcome::kAuthFailed, "SCRAM server signature does not verify");
  }
}

}  // namespace xp
