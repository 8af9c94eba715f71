#include "basic_auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <memory>
#include <stdexcept>

namespace xw {
namespace {

// A valid hash to compare against when the user is unknown, so that a wrong user name
// takes as long as a wrong password and user names cannot be probed by timing.
constexpr const char* kDummyHash = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

bool BcryptMatches(const std::string& password, const std::string& hash) {
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_r(password.c_str(), hash.c_str(), data.get());
  if (out == nullptr || out[0] == '*') return false;
  const std::string_view got(out);
  return got.size() == hash.size() && CRYPTO_memcmp(got.data(), hash.data(), hash.size()) == 0;
}

std::string Sha256(std::string_view material) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> md{};
  SHA256(reinterpret_cast<const unsigned char*>(material.data()), material.size(), md.data());
  return {reinterpret_cast<const char*>(md.data()), md.size()};
}

// Splits "Basic base64(user:password)"; false when malformed.
bool Credentials(std::string_view header, std::string& user, std::string& password) {
  constexpr std::string_view kPrefix = "Basic ";
  if (header.size() <= kPrefix.size() || header.substr(0, kPrefix.size()) != kPrefix) return false;
  std::string decoded;
  if (!DecodeBase64(header.substr(kPrefix.size()), decoded)) return false;
  const auto colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  user = decoded.substr(0, colon);
  password = decoded.substr(colon + 1);
  return true;
}

}  // namespace

bool DecodeBase64(std::string_view in, std::string& out) {
  if (in.size() % 4 != 0 || in.size() > 8192) return false;
  out.resize(in.size() / 4 * 3);
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return false;
  std::size_t len = static_cast<std::size_t>(n);
  // EVP_DecodeBlock does not account for padding.
  if (!in.empty() && in.back() == '=') --len;
  if (in.size() >= 2 && in[in.size() - 2] == '=') --len;
  out.resize(len);
  return true;
}

std::string BcryptHash(const std::string& password, int cost) {
  std::array<char, CRYPT_GENSALT_OUTPUT_SIZE> salt{};
  if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), nullptr, 0, salt.data(),
                       static_cast<int>(salt.size())) == nullptr) {
    throw std::runtime_error("crypt_gensalt failed");
  }
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_r(password.c_str(), salt.data(), data.get());
  if (out == nullptr || out[0] == '*') throw std::runtime_error("bcrypt hashing failed");
  return out;
}

BasicAuthenticator::BasicAuthenticator(std::map<std::string, std::string> users, std::size_t max_cached)
    : users_(std::move(users)), max_cached_(std::max<std::size_t>(1, max_cached)) {}

std::size_t BasicAuthenticator::cached() const {
  std::lock_guard lock(mu_);
  return verified_.size();
}

BasicAuthenticator::Verdict BasicAuthenticator::CheckCached(std::string_view header) {
  if (!enabled()) return Verdict::kAllowed;
  std::string user, password;
  if (!Credentials(header, user, password)) return Verdict::kDenied;
  const std::string key = Sha256(header);
  std::lock_guard lock(mu_);
  return verified_.contains(key) ? Verdict::kAllowed : Verdict::kNeedsBcrypt;
}

bool BasicAuthenticator::Check(std::string_view header) {
  const Verdict fast = CheckCached(header);
  if (fast != Verdict::kNeedsBcrypt) return fast == Verdict::kAllowed;
  std::string user, password;
  Credentials(header, user, password);
  const auto it = users_.find(user);
  const std::string& hash = it == users_.end() ? std::string(kDummyHash) : it->second;
  bool matches = false;
  {
    std::lock_guard lock(bcrypt_mu_);
    ++bcrypt_runs_;
    matches = BcryptMatches(password, hash);
  }
  const bool ok = matches && it != users_.end();
  if (ok) {
    std::string key = Sha256(header);
    std::lock_guard lock(mu_);
    if (verified_.insert(key).second) {
      order_.push_back(std::move(key));
      while (order_.size() > max_cached_) {
        verified_.erase(order_.front());
        order_.pop_front();
      }
    }
  }
  return ok;
}

}  // namespace xw
