// node_vmstat_* from /proc/vmstat, untyped as node_exporter exports them, filtered by
// --collector.vmstat.fields.
#include "collector.h"
#include "kept_file.h"
#include "match_cache.h"
#include "metric_family.h"
#include "text_file.h"

namespace xw::exporter {
namespace {

class VmstatCollector : public Collector {
 public:
  explicit VmstatCollector(const CollectorContext& ctx)
      : file_(ctx.paths.Proc("vmstat")), fields_(ctx.Option("collector.vmstat.fields"), "collector.vmstat.fields") {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    const std::string text = file_.Read();
    std::vector<prometheus::MetricFamily> out;
    auto selected = fields_.Begin();
    std::vector<std::string_view> f;
    std::size_t line_no = 0;
    for (auto line : Lines(text)) {
      ++line_no;
      Fields(line, f);
      if (f.empty()) continue;
      const FileLine where(file_.path(), line_no);
      if (f.size() != 2) throw ParseError(where + ": expected 'name value'");
      // Parsed before filtering: a malformed file fails whatever fields are selected.
      const double v = DoubleOrThrow(f[1], where);
      if (!selected.Matches(f[0])) continue;
      const std::string name(f[0]);
      Emit(out, Family("node_vmstat_" + name, "/proc/vmstat information field " + name + ".",
                       prometheus::MetricType::Untyped)
                    .Add(v));
    }
    return out;
  }

 private:
  mutable KeptFile file_;
  OrderedMatchCache fields_;
};

const CollectorRegistrar kRegistrar({
    .name = "vmstat",
    .enabled_by_default = true,
    .help = "Virtual memory statistics from /proc/vmstat",
    .flags = {RegexFlag("collector.vmstat.fields", "^(oom_kill|pgpg|pswp|pg.*fault).*", "Regexp of fields to return")},
    .make = [](const CollectorContext& ctx) { return std::make_unique<VmstatCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
