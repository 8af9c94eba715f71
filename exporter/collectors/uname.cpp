// node_uname_info from uname(2).
#include <sys/utsname.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "collector.h"
#include "metric_family.h"

namespace xw::exporter {
namespace {

class UnameCollector : public Collector {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    utsname u{};
    if (::uname(&u) != 0) throw std::runtime_error(std::string("uname: ") + std::strerror(errno));
    std::vector<prometheus::MetricFamily> out;
    Emit(out, Gauge("node_uname_info", "Labeled system information as provided by the uname system call.")
                  .Add(1, {{"domainname", u.domainname},
                           {"machine", u.machine},
                           {"nodename", u.nodename},
                           {"release", u.release},
                           {"sysname", u.sysname},
                           {"version", u.version}}));
    return out;
  }
};

const CollectorRegistrar kRegistrar({
    .name = "uname",
    .enabled_by_default = true,
    .help = "System information from uname(2)",
    .flags = {},
    .make = [](const CollectorContext&) { return std::make_unique<UnameCollector>(); },
});

}  // namespace
}  // namespace xw::exporter
