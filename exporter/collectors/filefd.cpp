// node_filefd_{allocated,maximum} from /proc/sys/fs/file-nr ("allocated  unused  maximum").
#include "collector.h"
#include "kept_file.h"
#include "metric_family.h"
#include "text_file.h"

namespace xw::exporter {
namespace {

class FilefdCollector : public Collector {
 public:
  explicit FilefdCollector(const CollectorContext& ctx)
      : file_(ctx.paths.Proc("sys/fs/file-nr"), KeptFile::Printed::kInOnePiece) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    const std::string text = file_.Read();
    const auto f = Fields(Trim(text));
    if (f.size() != 3) throw ParseError(file_.path() + ": expected 3 numbers, got " + std::to_string(f.size()));
    std::vector<prometheus::MetricFamily> out;
    Emit(out, Gauge("node_filefd_allocated", "File descriptor statistics: allocated.")
                  .Add(DoubleOrThrow(f[0], file_.path())));
    Emit(out,
         Gauge("node_filefd_maximum", "File descriptor statistics: maximum.").Add(DoubleOrThrow(f[2], file_.path())));
    return out;
  }

 private:
  mutable KeptFile file_;
};

const CollectorRegistrar kRegistrar({
    .name = "filefd",
    .enabled_by_default = true,
    .help = "File descriptor statistics from /proc/sys/fs/file-nr",
    .flags = {},
    .make = [](const CollectorContext& ctx) { return std::make_unique<FilefdCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
