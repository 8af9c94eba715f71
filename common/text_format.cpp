#include "text_format.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace xw {
namespace {

// Length of the well-formed UTF-8 sequence at the start of `s` (1-4), or 0 if there is none
// (Unicode 15, table 3-7).
std::size_t Utf8SequenceLength(std::string_view s) {
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  auto cont = [&](std::size_t i, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return i < s.size() && b(i) >= lo && b(i) <= hi;
  };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;  // no surrogates
  if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

bool LabelsValid(const prometheus::ClientMetric& m) {
  for (const auto& l : m.label) {
    if (!IsValidUtf8(l.value)) return false;
  }
  return true;
}

void AppendDouble(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else if (v == std::trunc(v) && std::fabs(v) < 0x1p53 && !(v == 0 && std::signbit(v))) {
    // Most samples are counts: an integer below 2^53 prints as one (the same double back),
    // without the shortest-form search, which costs several times more.
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, static_cast<std::int64_t>(v));
    out.append(buf, r.ptr);
  } else {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
  }
}

// Help texts and label values rarely hold anything to escape: plain runs are found with
// strcspn (vectorised in glibc) and copied whole. A NUL inside a value stops strcspn early; it
// is copied as it is, like any plain character.
void AppendEscaped(std::string& out, const std::string& s, bool quote) {
  const char* const specials = quote ? "\\\n\"" : "\\\n";
  const char* p = s.c_str();
  const char* const end = p + s.size();
  while (p < end) {
    const std::size_t run = std::strcspn(p, specials);
    out.append(p, run);
    p += run;
    if (p >= end) break;
    const char c = *p++;
    out += c == '\\' ? "\\\\" : c == '\n' ? "\\n" : c == '"' ? "\\\"" : std::string_view(&c, 1);
  }
}

// name{labels[,extra="value"]} value [timestamp]
void AppendSample(std::string& out, const std::string& name, const char* suffix, const prometheus::ClientMetric& m,
                  const char* extra_name, double extra_value, double value) {
  out += name;
  out += suffix;
  if (!m.label.empty() || extra_name != nullptr) {
    out.push_back('{');
    bool first = true;
    for (const auto& l : m.label) {
      if (!first) out.push_back(',');
      first = false;
      out += l.name;
      out += "=\"";
      AppendEscaped(out, l.value, true);
      out.push_back('"');
    }
    if (extra_name != nullptr) {
      if (!first) out.push_back(',');
      out += extra_name;
      out += "=\"";
      AppendDouble(out, extra_value);
      out.push_back('"');
    }
    out.push_back('}');
  }
  out.push_back(' ');
  AppendDouble(out, value);
  if (m.timestamp_ms != 0) {
    out.push_back(' ');
    out += std::to_string(m.timestamp_ms);
  }
  out.push_back('\n');
}

const char* TypeName(prometheus::MetricType t) {
  switch (t) {
    case prometheus::MetricType::Counter:
      return "counter";
    case prometheus::MetricType::Gauge:
      return "gauge";
    case prometheus::MetricType::Summary:
      return "summary";
    case prometheus::MetricType::Histogram:
      return "histogram";
    default:
      return "untyped";
  }
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  // Nearly every value is ASCII: skip eight bytes at a time while no high bit is set.
  std::size_t i = 0;
  while (i + 8 <= s.size()) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if ((w & 0x8080808080808080ULL) != 0) break;
    i += 8;
  }
  while (i < s.size()) {
    const std::size_t n = Utf8SequenceLength(s.substr(i));
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string ToValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool in_bad_run = false;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = Utf8SequenceLength(s.substr(i));
    if (n == 0) {
      if (!in_bad_run) out += "\xEF\xBF\xBD";
      in_bad_run = true;
      ++i;
      continue;
    }
    in_bad_run = false;
    out.append(s.substr(i, n));
    i += n;
  }
  return out;
}

void AppendTextFormat(std::string& out, const std::vector<prometheus::MetricFamily>& families, TextFormatStats* stats) {
  for (const auto& f : families) {
    if (f.metric.empty()) continue;
    // Taken back if every series of the family is dropped: no HELP and TYPE without samples.
    const std::size_t family_start = out.size();
    if (!f.help.empty()) {
      out += "# HELP ";
      out += f.name;
      out.push_back(' ');
      if (IsValidUtf8(f.help)) {
        AppendEscaped(out, f.help, false);
      } else {
        AppendEscaped(out, ToValidUtf8(f.help), false);
      }
      out.push_back('\n');
    }
    out += "# TYPE ";
    out += f.name;
    out.push_back(' ');
    out += TypeName(f.type);
    out.push_back('\n');
    std::size_t written = 0;
    for (const auto& m : f.metric) {
      if (!LabelsValid(m)) {
        if (stats != nullptr) {
          if (stats->invalid_utf8_series++ == 0) stats->first_invalid = f.name;
        }
        continue;
      }
      ++written;
      switch (f.type) {
        case prometheus::MetricType::Counter:
          AppendSample(out, f.name, "", m, nullptr, 0, m.counter.value);
          break;
        case prometheus::MetricType::Gauge:
          AppendSample(out, f.name, "", m, nullptr, 0, m.gauge.value);
          break;
        case prometheus::MetricType::Untyped:
          AppendSample(out, f.name, "", m, nullptr, 0, m.untyped.value);
          break;
        case prometheus::MetricType::Summary:
          for (const auto& q : m.summary.quantile) AppendSample(out, f.name, "", m, "quantile", q.quantile, q.value);
          AppendSample(out, f.name, "_sum", m, nullptr, 0, m.summary.sample_sum);
          AppendSample(out, f.name, "_count", m, nullptr, 0, static_cast<double>(m.summary.sample_count));
          break;
        case prometheus::MetricType::Histogram: {
          bool has_inf = false;
          for (const auto& b : m.histogram.bucket) {
            has_inf = has_inf || std::isinf(b.upper_bound);
            AppendSample(out, f.name, "_bucket", m, "le", b.upper_bound, static_cast<double>(b.cumulative_count));
          }
          if (!has_inf) {
            AppendSample(out, f.name, "_bucket", m, "le", INFINITY, static_cast<double>(m.histogram.sample_count));
          }
          AppendSample(out, f.name, "_sum", m, nullptr, 0, m.histogram.sample_sum);
          AppendSample(out, f.name, "_count", m, nullptr, 0, static_cast<double>(m.histogram.sample_count));
          break;
        }
      }
    }
    if (written == 0) out.resize(family_start);
  }
}

std::string TextFormat(const std::vector<prometheus::MetricFamily>& families, TextFormatStats* stats) {
  std::string out;
  out.reserve(families.size() * 160);
  AppendTextFormat(out, families, stats);
  return out;
}

}  // namespace xw
