// Scrapes one exporter N times in a row, each on a new connection as a fresh Prometheus
// would, and prints latency percentiles, the server's CPU per scrape (from /proc/PID/stat)
// and its RSS. Used by compare_exporters.sh so both exporters are measured the same way.
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

double CpuSeconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.rfind(')') == std::string::npos) {
    std::fprintf(stderr, "no process %d (did the exporter start on its port?)\n", pid);
    std::exit(1);
  }
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

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s HOST PORT PID COUNT\n", argv[0]);
    return 2;
  }
  const std::string host = argv[1];
  const int port = std::stoi(argv[2]);
  const int pid = std::stoi(argv[3]);
  const int count = std::min(std::stoi(argv[4]), 100000);
  std::vector<double> ms;
  ms.reserve(static_cast<std::size_t>(count));
  std::size_t series = 0;
  const double cpu0 = CpuSeconds(pid);
  for (int i = 0; i < count; ++i) {
    httplib::Client c(host, port);
    c.set_keep_alive(false);
    const auto t0 = std::chrono::steady_clock::now();
    auto r = c.Get("/metrics");
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - t0;
    if (!r || r->status != 200) {
      std::fprintf(stderr, "scrape %d failed\n", i);
      return 1;
    }
    ms.push_back(took.count());
    if (i == 0) {
      std::istringstream body(r->body);
      for (std::string line; std::getline(body, line);) series += (!line.empty() && line[0] != '#');
    }
  }
  const double cpu1 = CpuSeconds(pid);
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) { return ms[static_cast<std::size_t>(p * (ms.size() - 1))]; };
  std::printf("p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f cpu_ms_per_scrape=%.3f rss_mib=%.1f series=%zu\n", pct(0.5), pct(0.9), pct(0.99),
              (cpu1 - cpu0) * 1000 / count, static_cast<double>(RssKiB(pid)) / 1024, series);
  return 0;
}
