// node_timex_*: the kernel's clock discipline state from adjtimex(2) (read-only, modes 0),
// scaled as node_exporter scales it.
#include <sys/timex.h>

#include <cerrno>
#include <cstring>

#include "collector.h"
#include "metric_family.h"

namespace xw::exporter {
namespace {

constexpr double kMicro = 1e6;
constexpr double kNano = 1e9;
// freq, ppsfreq and stabil are in ppm with a 16-bit fraction (adjtimex(2), NOTES).
constexpr double kPpm16Frac = 1e6 * 65536.0;

class TimexCollector : public Collector {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    timex tx{};
    const int state = adjtimex(&tx);
    if (state < 0) {
      if (errno == EPERM) throw NoDataError("adjtimex: not permitted");
      throw std::runtime_error(std::string("adjtimex: ") + std::strerror(errno));
    }
    const double divisor = (tx.status & STA_NANO) ? kNano : kMicro;
    std::vector<prometheus::MetricFamily> out;
    auto g = [&](const char* name, const char* help, double v) { Emit(out, Gauge(name, help).Add(v)); };
    auto c = [&](const char* name, const char* help, double v) { Emit(out, Counter(name, help).Add(v)); };
    g("node_timex_estimated_error_seconds", "Estimated error in seconds.", static_cast<double>(tx.esterror) / kMicro);
    g("node_timex_frequency_adjustment_ratio", "Local clock frequency adjustment.",
      1 + static_cast<double>(tx.freq) / kPpm16Frac);
    g("node_timex_loop_time_constant", "Phase-locked loop time constant.", static_cast<double>(tx.constant));
    g("node_timex_maxerror_seconds", "Maximum error in seconds.", static_cast<double>(tx.maxerror) / kMicro);
    g("node_timex_offset_seconds", "Time offset in between local system and reference clock.",
      static_cast<double>(tx.offset) / divisor);
    c("node_timex_pps_calibration_total", "Pulse per second count of calibration intervals.",
      static_cast<double>(tx.calcnt));
    c("node_timex_pps_error_total", "Pulse per second count of calibration errors.", static_cast<double>(tx.errcnt));
    g("node_timex_pps_frequency_hertz", "Pulse per second frequency.", static_cast<double>(tx.ppsfreq) / kPpm16Frac);
    g("node_timex_pps_jitter_seconds", "Pulse per second jitter.", static_cast<double>(tx.jitter) / divisor);
    c("node_timex_pps_jitter_total", "Pulse per second count of jitter limit exceeded events.",
      static_cast<double>(tx.jitcnt));
    g("node_timex_pps_shift_seconds", "Pulse per second interval duration.", static_cast<double>(tx.shift));
    c("node_timex_pps_stability_exceeded_total", "Pulse per second count of stability limit exceeded events.",
      static_cast<double>(tx.stbcnt));
    g("node_timex_pps_stability_hertz", "Pulse per second stability, average of recent frequency changes.",
      static_cast<double>(tx.stabil) / kPpm16Frac);
    g("node_timex_status", "Value of the status array bits.", static_cast<double>(tx.status));
    g("node_timex_sync_status", "Is clock synchronized to a reliable server (1 = yes, 0 = no).",
      state == TIME_ERROR ? 0 : 1);
    g("node_timex_tai_offset_seconds", "International Atomic Time (TAI) offset.", static_cast<double>(tx.tai));
    g("node_timex_tick_seconds", "Seconds between clock ticks.", static_cast<double>(tx.tick) / kMicro);
    return out;
  }
};

const CollectorRegistrar kRegistrar({
    .name = "timex",
    .enabled_by_default = true,
    .help = "Clock discipline state from adjtimex(2)",
    .flags = {},
    .make = [](const CollectorContext&) { return std::make_unique<TimexCollector>(); },
});

}  // namespace
}  // namespace xw::exporter
