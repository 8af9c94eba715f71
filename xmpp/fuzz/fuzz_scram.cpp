// libFuzzer target: SCRAM server messages (server-first, server-final) and base64, as a
// hostile server would send them.
#include <cstddef>
#include <cstdint>
#include <string>

#include "xmpp/outcome.h"
#include "xmpp/scram.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  try {
    xp::Base64Decode(input);
  } catch (const xp::ProbeError&) {
  }
  try {
    xp::ParseServerFinal(input);
  } catch (const xp::ProbeError&) {
  }
  try {
    // The client nonce is fixed so inputs starting "r=abc..." reach the key derivation.
    xp::ScramClient client(size % 2 ? xp::ScramHash::kSha1 : xp::ScramHash::kSha256, "user", "pencil", "abc");
    // Every gs2 flag, a -PLUS one with binding bytes taken from the input.
    auto flag = static_cast<xp::CbFlag>(size % 3);
    client.SetChannelBinding(flag, "tls-exporter", input.substr(0, 32));
    client.ClientFirst();
    // Small bounds keep PBKDF2 cheap; counts below the minimum take the refusal path.
    client.ClientFinal(input, /*max_iterations=*/64, /*min_iterations=*/size % 5 == 0 ? 32 : 1);
    client.VerifyServerFinal(input);
  } catch (const xp::ProbeError&) {
  }
  return 0;
}
