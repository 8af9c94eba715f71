// HTTP basic auth against bcrypt hashes from the web-config file.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

namespace xw {

class BasicAuthenticator {
 public:
  explicit BasicAuthenticator(std::map<std::string, std::string> users);

  bool enabled() const { return !users_.empty(); }
  // Checks an "Authorization" header value. A bcrypt check costs ~50 ms of CPU at cost 10,
  // so successful (user, password) pairs are remembered by digest, as the exporter toolkit
  // does; failures are never cached so a changed password cannot be guessed cheaply.
  bool Check(std::string_view authorization_header);

 private:
  std::map<std::string, std::string> users_;
  std::mutex mu_;
  std::set<std::string> verified_;  // sha256(user \0 password \0 hash)
};

// Base64 decoding for the header; returns false on malformed input.
bool DecodeBase64(std::string_view in, std::string& out);
// Makes a bcrypt hash (for tests and the docs' how-to); throws on failure.
std::string BcryptHash(const std::string& password, int cost = 10);

}  // namespace xw
