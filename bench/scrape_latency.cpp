// Scrapes exporters COUNT times each, every scrape on a new connection as a fresh Prometheus
// would, and prints per exporter latency percentiles, its CPU per scrape (from /proc/PID/stat)
// and its RSS. Used by compare_exporters.sh so both exporters are measured the same way.
//
// With several exporters the scrapes go in blocks of BLOCK, taking turns, with a pause between
// blocks: this VM's speed drifts by a third over tens of seconds, and measuring one exporter
// after the other let that drift land on one of them. The pause lets the other process finish
// what it does after a burst (node_exporter's garbage collection) before the next block is
// timed; one-scrape turns without it had each exporter's leftovers land on the other's timings.
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
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

struct Target {
  std::string host;
  int port = 0;
  int pid = 0;
  std::vector<double> ms;
  std::size_t series = 0;
  double cpu_seconds = 0;  // from the first block to the last: /proc's clock ticks are 10 ms
};

// "HOST:PORT:PID"
Target ParseTarget(const std::string& arg) {
  const auto a = arg.find(':'), b = arg.rfind(':');
  if (a == std::string::npos || a == b) {
    std::fprintf(stderr, "'%s': expected HOST:PORT:PID\n", arg.c_str());
    std::exit(2);
  }
  Target t;
  t.host = arg.substr(0, a);
  t.port = std::stoi(arg.substr(a + 1, b - a - 1));
  t.pid = std::stoi(arg.substr(b + 1));
  return t;
}

void ScrapeBlock(Target& t, int n) {
  for (int i = 0; i < n; ++i) {
    httplib::Client c(t.host, t.port);
    c.set_keep_alive(false);
    const auto t0 = std::chrono::steady_clock::now();
    auto r = c.Get("/metrics");
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - t0;
    if (!r || r->status != 200) {
      std::fprintf(stderr, "%s:%d: scrape %zu failed\n", t.host.c_str(), t.port, t.ms.size());
      std::exit(1);
    }
    t.ms.push_back(took.count());
    if (t.series == 0) {
      std::istringstream body(r->body);
      for (std::string line; std::getline(body, line);) t.series += (!line.empty() && line[0] != '#');
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s COUNT BLOCK HOST:PORT:PID [HOST:PORT:PID...]\n", argv[0]);
    return 2;
  }
  const int count = std::clamp(std::stoi(argv[1]), 1, 100000);
  const int block = std::clamp(std::stoi(argv[2]), 1, count);
  std::vector<Target> targets;
  for (int i = 3; i < argc; ++i) targets.push_back(ParseTarget(argv[i]));
  for (auto& t : targets) {
    t.ms.reserve(static_cast<std::size_t>(count));
    t.cpu_seconds = -CpuSeconds(t.pid);
  }
  // Who goes first rotates by round, so neither always runs right after the other's block.
  for (int done = 0, round = 0; done < count; done += block, ++round) {
    const int n = std::min(block, count - done);
    for (std::size_t k = 0; k < targets.size(); ++k) {
      ScrapeBlock(targets[(k + static_cast<std::size_t>(round)) % targets.size()], n);
      if (targets.size() > 1) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  for (auto& t : targets) {
    t.cpu_seconds += CpuSeconds(t.pid);
    std::sort(t.ms.begin(), t.ms.end());
    auto pct = [&](double p) { return t.ms[static_cast<std::size_t>(p * static_cast<double>(t.ms.size() - 1))]; };
    std::printf("p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f cpu_ms_per_scrape=%.3f rss_mib=%.1f series=%zu\n", pct(0.5),
                pct(0.9), pct(0.99), t.cpu_seconds * 1000 / count, static_cast<double>(RssKiB(t.pid)) / 1024, t.series);
  }
  return 0;
}
