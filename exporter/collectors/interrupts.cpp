// node_interrupts_total{cpu,type,info,devices} from /proc/interrupts. Off by default, as in
// node_exporter: it is CPUs x IRQs series.
#include "collector.h"
#include "kept_file.h"
#include "metric_family.h"
#include "text_file.h"

namespace xw::exporter {
namespace {

class InterruptsCollector : public Collector {
 public:
  explicit InterruptsCollector(const CollectorContext& ctx) : file_(ctx.paths.Proc("interrupts")) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    const std::string text = file_.Read();
    const auto lines = Lines(text);
    if (lines.empty()) throw ParseError(file_.path() + ": empty");
    const std::size_t cpus = Fields(lines[0]).size();  // "CPU0 CPU1 ..."
    std::vector<std::string> cpu_label;
    for (std::size_t i = 0; i < cpus; ++i) cpu_label.push_back(std::to_string(i));
    auto fam = Counter("node_interrupts_total", "Interrupt details.");
    for (std::size_t n = 1; n < lines.size(); ++n) {
      const auto f = Fields(lines[n]);
      // ERR: and MIS: carry one total, not one count per CPU: node_exporter skips them too.
      if (f.size() < cpus + 2) continue;
      const FileLine where(file_.path(), n + 1);
      if (!f[0].ends_with(':')) throw ParseError(where + ": no ':' after the interrupt name");
      const std::string type(f[0].substr(0, f[0].size() - 1));
      const bool numbered = ToUint64(type).has_value();
      std::string info, devices;
      // A numbered IRQ has "<chip> <hwirq> <devices...>"; a named one a description.
      for (std::size_t k = cpus + 1; k < f.size(); ++k) {
        std::string& dst = (numbered && k > cpus + 1) ? devices : info;
        if (!dst.empty()) dst.push_back(' ');
        dst.append(f[k]);
      }
      for (std::size_t c = 0; c < cpus; ++c) {
        fam.Add(DoubleOrThrow(f[c + 1], where),
                {{"cpu", cpu_label[c]}, {"type", type}, {"info", info}, {"devices", devices}});
      }
    }
    std::vector<prometheus::MetricFamily> out;
    Emit(out, std::move(fam));
    return out;
  }

 private:
  mutable KeptFile file_;
};

const CollectorRegistrar kRegistrar({
    .name = "interrupts",
    .enabled_by_default = false,
    .help = "Interrupt counts per CPU from /proc/interrupts",
    .flags = {},
    .make = [](const CollectorContext& ctx) { return std::make_unique<InterruptsCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
