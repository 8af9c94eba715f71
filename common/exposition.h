// A parser for the Prometheus text exposition format (0.0.4). Used by the textfile collector
// and by tests that compare our scrape with node_exporter's.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "text_file.h"

namespace xw {

struct ParsedSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
  bool has_timestamp = false;  // node_exporter's textfile collector rejects client-side timestamps
};

struct ParsedFamily {
  std::string name;
  std::string help;
  std::string type = "untyped";
  std::vector<ParsedSample> samples;
};

// Throws ParseError("line N: ...") on malformed input: bad names, unterminated label values,
// escapes other than \\ \" \n in label values, unparsable values, a TYPE after samples of that
// family, a second HELP or TYPE for a family, duplicate series, a histogram bucket without
// "le" or a summary quantile without "quantile".
std::vector<ParsedFamily> ParseExposition(std::string_view text);

bool IsValidMetricName(std::string_view name);
bool IsValidLabelName(std::string_view name);

}  // namespace xw
