// libFuzzer target: stream negotiation as a hostile server drives it. The input is parsed as
// a stream; its <stream:features> pick the SASL mechanism (with and without a TLS channel to
// bind), and every SASL element after it is fed to the exchange, a SCRAM-PLUS one bound to
// fixed channel-binding bytes, so server-first and server-final parsing run with the gs2
// header a real -PLUS login carries. Bind results and STARTTLS answers are judged too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xmpp/negotiation.h"
#include "xmpp/outcome.h"
#include "xmpp/xml_stream.h"

namespace {

void Drive(xp::SaslPlan plan, const std::vector<xp::Element>& elements, int min_iterations) {
  // The fixed client nonce lets inputs carrying "r=abc..." reach the key derivation.
  xp::SaslExchange sasl(std::move(plan), "user", "pencil", min_iterations, "abc");
  try {
    sasl.Start();
    for (const auto& e : elements) {
      if (e.ns != xp::kNsSasl) continue;
      sasl.OnElement(e);
      if (sasl.done()) break;
    }
  } catch (const xp::ProbeError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t mode = data[0];
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  xp::StreamLimits limits;
  limits.max_stanza_bytes = 4096;
  limits.max_depth = 8;
  limits.max_stanza_elements = 64;
  xp::XmlStream stream(limits);
  std::vector<xp::Element> elements;
  try {
    stream.Feed(input);
  } catch (const xp::ProbeError&) {
  }
  while (auto e = stream.Next()) elements.push_back(std::move(*e));

  for (const auto& e : elements) {
    (void)xp::Footprint(e);
    try {
      xp::CheckProceed(e);
    } catch (const xp::ProbeError&) {
    }
    try {
      (void)xp::BoundJid(e);
    } catch (const xp::ProbeError&) {
    }
    if (!e.Is("features", xp::kNsStreams)) continue;
    try {
      // No TLS session here: the PLUS upgrade needs one, so its choice is fuzzed below.
      Drive(xp::ChooseSasl({"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"}, e, nullptr), elements, 1 + mode % 64);
    } catch (const xp::ProbeError&) {
    }
  }
  xp::SaslPlan plus;
  plus.mechanism = mode & 1 ? "SCRAM-SHA-256-PLUS" : "SCRAM-SHA-1-PLUS";
  plus.flag = mode & 2 ? xp::CbFlag::kBound : xp::CbFlag::kSupported;
  plus.cb_type = mode & 4 ? "tls-exporter" : "tls-unique";
  plus.cb_data = std::string(32, static_cast<char>(mode));
  // Low iteration bounds keep PBKDF2 cheap; the refusal of counts below them is fuzzed too.
  Drive(plus, elements, mode & 8 ? 4096 : 1);
  return 0;
}
