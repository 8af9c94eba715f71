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

// The gs2 channel-binding flag (RFC 5802 section 7).
enum class CbFlag {
  kNone,       // "n": no channel to bind (plain TCP)
  kSupported,  // "y": we could bind, the server offered no -PLUS; a server that does support
               // it then knows the offer was stripped on the way
  kBound,      // "p=<type>": SCRAM-SHA-*-PLUS, bound to the TLS channel
};

class ScramClient {
 public:
  // RFC 7677 section 4: at least 4096. Fewer makes a stolen verifier cheap to brute-force, and
  // a man in the middle that lowers it gets our proof cheaply too.
  static constexpr int kMinIterations = 4096;

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

  // Before ClientFirst(); the default is kNone. type: "tls-exporter" or
  // "tls-server-end-point"; data: the binding bytes of this connection.
  void SetChannelBinding(CbFlag flag, const std::string& type = {}, std::string data = {});
  std::string ClientFirst();
  // Consumes server-first, returns client-final (with proof). Refuses an iteration count
  // above max_iterations (kProtocolError: a hostile server could burn the probe's CPU) or
  // below min_iterations (kScramIterationsTooLow).
  std::string ClientFinal(std::string_view server_first, int max_iterations = 1000000,
                          int min_iterations = kMinIterations);
  // Throws unless the server proved it knows the password too.
  void VerifyServerFinal(std::string_view server_final) const;

 private:
  std::string Hmac(std::string_view key, std::string_view data) const;
  std::string Hash(std::string_view data) const;

  ScramHash hash_;
  std::string user_;
  std::string password_;
  std::string cnonce_;
  std::string gs2_header_ = "n,,";
  std::string cb_data_;
  std::string client_first_bare_;
  std::string server_signature_;
};

}  // namespace xp
