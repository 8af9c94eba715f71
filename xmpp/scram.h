// SASL SCRAM (RFC 5802, RFC 7677) client side on OpenSSL primitives. The parsing half is
// separate so the fuzzer can hit it without a network, and errors are ProbeError(kAuthFailed
// or kProtocolError) so a server sending nonsense is told apart from a wrong password.
#pragma once

#include <string>
#include <string_view>

namespace xp {

enum class ScramHash { kSha1, kSha256 };

std::string Base64Encode(std::string_view data);
// Throws ProbeError(kProtocolError) on anything that is not canonical padded base64.
std::string Base64Decode(std::string_view text);

struct ServerFirst {
  std::string nonce;
  std::string salt;  // decoded
  int iterations = 0;
};
// Parses "r=...,s=...,i=..." (RFC 5802 section 5.1); throws ProbeError(kProtocolError).
ServerFirst ParseServerFirst(std::string_view message);
// Parses "v=..." or "e=..."; returns the decoded verifier, throws ProbeError(kAuthFailed) on
// "e=" and kProtocolError on anything else.
std::string ParseServerFinal(std::string_view message);

class ScramClient {
 public:
  // cnonce empty: a random one. Tests pass the RFC's to reproduce its vectors.
  ScramClient(ScramHash hash, std::string user, std::string password, std::string cnonce = {});
  ~ScramClient();
  ScramClient(const ScramClient&) = delete;
  ScramClient& operator=(const ScramClient&) = delete;

  static std::string_view MechanismName(ScramHash hash);
  // RFC 5802 5.1 lets a client cache the salted password per (password, salt, iterations):
  // load mode logs thousands of sessions into accounts sharing a password and would otherwise
  // spend its CPU in PBKDF2. Off by default; one probe login should pay the full price.
  static void EnableSaltedPasswordCache(bool on);

  std::string ClientFirst();
  // Consumes server-first, returns client-final (with proof). Refuses an iteration count
  // above max_iterations: a hostile server could otherwise burn the probe's CPU.
  std::string ClientFinal(std::string_view server_first, int max_iterations = 1000000);
  // Throws unless the server proved it knows the password too.
  void VerifyServerFinal(std::string_view server_final) const;

 private:
  std::string Hmac(std::string_view key, std::string_view data) const;
  std::string Hash(std::string_view data) const;

  ScramHash hash_;
  std::string user_;
  std::string password_;
  std::string cnonce_;
  std::string client_first_bare_;
  std::string server_signature_;
};

}  // namespace xp
