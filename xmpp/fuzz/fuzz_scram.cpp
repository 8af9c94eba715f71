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
    client.ClientFirst();
    client.ClientFinal(input, /*max_iterations=*/64);
    client.VerifyServerFinal(input);
  } catch (const xp::ProbeError&) {
  }
  return 0;
}
