// libFuzzer target: the XMPP stream parser on arbitrary bytes, fed in arbitrary fragments,
// with small limits so the size and depth guards are reached often.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "xmpp/outcome.h"
#include "xmpp/xml_stream.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::size_t chunk = 1 + data[0] % 64;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  xp::StreamLimits limits;
  limits.max_stanza_bytes = 4096;
  limits.max_depth = 8;
  limits.max_stanza_elements = 64;
  xp::XmlStream stream(limits);
  try {
    while (!input.empty()) {
      std::string_view part = input.substr(0, chunk);
      input.remove_prefix(part.size());
      stream.Feed(part);
      while (auto e = stream.Next()) {
        (void)e->Attr("id");
        (void)xp::Footprint(*e);  // what the client's backlog budget counts
        (void)e->Child("body");
      }
      if (input.size() % 7 == 3 && stream.closed()) stream.Reset();
    }
  } catch (const xp::ProbeError&) {
  }
  return 0;
}
