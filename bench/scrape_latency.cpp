// Scrapes exporters N times each, every scrape on a new connection as a fresh Prometheus
// would, and prints per exporter (one line each, in argument order) latency percentiles, the
// server's CPU per scrape (from /proc/PID/stat) and its RSS. Used by compare_exporters.sh so
// both exporters are measured the same way, at the same time.
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

double CpuSeconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string f;
  double utime = 0, stime = 0;
  for (int i = 0; fields >> f; ++i) {
    if (i == 11) utime = std::stod(f);
    if (i == 12) {
      stime = std::stod(f);
      break;
    }
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

long RssKiB(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

struct Target {
  int port;
  int pid;
  std::vector<double> ms;
  std::size_t series = 0;
  double cpu0 = 0;
};

// One scrape on a new connection; false when it failed.
bool Scrape(const std::string& host, Target& t) {
  httplib::Client c(host, t.port);
  c.set_keep_alive(false);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = c.Get("/metrics");
  const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - t0;
  if (!r || r->status != 200) return false;
  t.ms.push_back(took.count());
  if (t.series == 0) {
    std::istringstream body(r->body);
    for (std::string line; std::getline(body, line);) t.series += (!line.empty() && line[0] != '#');
  }
  return true;
}

}  // namespace

// With several PORT PID pairs the scrapes alternate between the exporters (A, B, A, B, ...),
// so a burst of noise on a shared machine falls on both alike instead of on whichever was
// being measured at the time.
int main(int argc, char** argv) {
  if (argc < 5 || (argc - 5) % 2 != 0) {
    std::fprintf(stderr, "usage: %s HOST PORT PID COUNT [PORT PID]...\n", argv[0]);
    return 2;
  }
  const std::string host = argv[1];
  const int count = std::min(std::stoi(argv[4]), 100000);
  std::vector<Target> targets{{std::stoi(argv[2]), std::stoi(argv[3]), {}}};
  for (int i = 5; i < argc; i += 2) targets.push_back({std::stoi(argv[i]), std::stoi(argv[i + 1]), {}});
  for (auto& t : targets) {
    t.ms.reserve(static_cast<std::size_t>(count));
    t.cpu0 = CpuSeconds(t.pid);
  }
  for (int i = 0; i < count; ++i) {
    for (auto& t : targets) {
      if (!Scrape(host, t)) {
        std::fprintf(stderr, "scrape %d of port %d failed\n", i, t.port);
        return 1;
      }
    }
  }
  for (auto& t : targets) {
    const double cpu1 = CpuSeconds(t.pid);
    std::sort(t.ms.begin(), t.ms.end());
    auto pct = [&](double p) { return t.ms[static_cast<std::size_t>(p * (t.ms.size() - 1))]; };
    std::printf("p50_ms=%.3f p99_ms=%.3f cpu_ms_per_scrape=%.3f rss_mib=%.1f series=%zu\n", pct(0.5), pct(0.99),
                (cpu1 - t.cpu0) * 1000 / count, static_cast<double>(RssKiB(t.pid)) / 1024, t.series);
  }
  return 0;
}
