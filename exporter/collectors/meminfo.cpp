// node_memory_* from /proc/meminfo, one gauge per field, named as node_exporter names them.
#include "collector.h"
#include "kept_file.h"
#include "metric_family.h"
#include "text_file.h"

namespace xw::exporter {
namespace {

// "Active(anon)" -> "Active_anon", as node_exporter's regexp does.
std::string FieldName(std::string_view raw) {
  std::string name;
  for (char c : raw) {
    if (c == '(')
      name.push_back('_');
    else if (c != ')')
      name.push_back(c);
  }
  return name;
}

class MeminfoCollector : public Collector {
 public:
  explicit MeminfoCollector(const CollectorContext& ctx)
      : file_(ctx.paths.Proc("meminfo"), KeptFile::Printed::kInOnePiece) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    const std::string text = file_.Read();
    std::vector<prometheus::MetricFamily> out;
    std::size_t line_no = 0;
    for (std::string_view line : Lines(text)) {
      ++line_no;
      const auto f = Fields(line);
      if (f.empty()) continue;
      const FileLine where(file_.path(), line_no);
      if (f.size() < 2 || f.size() > 3 || !f[0].ends_with(":")) {
        throw ParseError(where + ": expected 'Name: value [kB]'");
      }
      double value = static_cast<double>(Uint64OrThrow(f[1], where));
      std::string name = FieldName(f[0].substr(0, f[0].size() - 1));
      if (f.size() == 3) {
        if (f[2] != "kB") throw ParseError(where + ": unknown unit '" + std::string(f[2]) + "'");
        value *= 1024;
        name += "_bytes";
      }
      Emit(out, Gauge("node_memory_" + name, "Memory information field " + name + ".").Add(value));
    }
    if (out.empty()) throw ParseError(file_.path() + ": no fields");
    return out;
  }

 private:
  mutable KeptFile file_;
};

const CollectorRegistrar kRegistrar({
    .name = "meminfo",
    .enabled_by_default = true,
    .help = "Memory statistics from /proc/meminfo",
    .flags = {},
    .make = [](const CollectorContext& ctx) { return std::make_unique<MeminfoCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
