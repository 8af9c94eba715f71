// Renders metric families in the Prometheus text format (0.0.4).
//
// prometheus-cpp's TextSerializer formats every number through an iostream, which made it
// half of the exporter's CPU per scrape. This writer produces the same exposition (tests
// parse both and compare) with std::to_chars, whose shortest round-trip form is also how
// Go's node_exporter prints numbers.
#pragma once

#include <prometheus/metric_family.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace xw {

// What the writer left out. Label values must be UTF-8 (the exposition format says so, and
// Prometheus rejects the whole scrape otherwise); they come from files, sockets and other
// programs (a textfile, mod_metrics' unauthenticated UDP), so a series with an invalid label
// value is dropped alone. HELP texts are repaired instead (invalid bytes become U+FFFD): they
// belong to no one series, and the text is only for people.
struct TextFormatStats {
  std::size_t invalid_utf8_series = 0;
  std::string first_invalid;  // name of the first series dropped, for a log line
};

void AppendTextFormat(std::string& out, const std::vector<prometheus::MetricFamily>& families,
                      TextFormatStats* stats = nullptr);
std::string TextFormat(const std::vector<prometheus::MetricFamily>& families, TextFormatStats* stats = nullptr);

// Well-formed UTF-8 (no overlong forms, surrogates or code points over U+10FFFF).
bool IsValidUtf8(std::string_view s);
// `s` with each maximal invalid subsequence replaced by U+FFFD, as Go's strings.ToValidUTF8
// does with "\uFFFD".
std::string ToValidUtf8(std::string_view s);

}  // namespace xw
