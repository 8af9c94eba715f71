// HTTP basic auth against bcrypt hashes from the web-config file, the exporter toolkit's way:
// an unknown user is checked against a dummy hash (no user enumeration by timing), bcrypt
// runs one at a time (it is CPU-bound, ~50 ms at cost 10), and successful checks are cached.
#pragma once

#include <atomic>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

namespace xw {

class BasicAuthenticator {
 public:
  explicit BasicAuthenticator(std::map<std::string, std::string> users, std::size_t max_cached = 1024);

  bool enabled() const { return !users_.empty(); }

  enum class Verdict { kAllowed, kDenied, kNeedsBcrypt };
  // The cheap part, for the I/O thread: no auth configured, a malformed header, or a header
  // value that passed before. kNeedsBcrypt: call Check() somewhere that may block ~50 ms.
  Verdict CheckCached(std::string_view authorization_header);

  // The full check of an "Authorization" header value; may run bcrypt. Successes are cached
  // by the SHA-256 of the header value (bounded, oldest evicted first); failures are never
  // cached, so a wrong guess always costs the guesser a bcrypt.
  bool Check(std::string_view authorization_header);

  // How many bcrypt comparisons ran (tests and metrics).
  std::size_t bcrypt_runs() const { return bcrypt_runs_.load(); }
  std::size_t cached() const;

 private:
  std::map<std::string, std::string> users_;
  std::size_t max_cached_;
  mutable std::mutex mu_;
  std::set<std::string> verified_;  // sha256(header value)
  std::deque<std::string> order_;   // insertion order, for eviction
  std::mutex bcrypt_mu_;            // one bcrypt at a time, as the toolkit does
  std::atomic<std::size_t> bcrypt_runs_{0};
};

// Base64 decoding for the header; returns false on malformed input.
bool DecodeBase64(std::string_view in, std::string& out);
// Makes a bcrypt hash (for tests and the docs' how-to); throws on failure.
std::string BcryptHash(const std::string& password, int cost = 10);

}  // namespace xw
