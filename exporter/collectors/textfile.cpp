// Metrics that other programs write into *.prom files (--collector.textfile.directory), e.g.
// the stack's backup task. A file that does not parse, carries client-side timestamps or
// contradicts another file's TYPE/HELP is skipped and raises node_textfile_scrape_error; it
// never fails the scrape. Families spread over several files are merged, as node_exporter does.
#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <set>

#include "collector.h"
#include "dir_list.h"
#include "exposition.h"
#include "log.h"
#include "metric_family.h"
#include "text_file.h"
#include "text_format.h"
#include "unique_fd.h"

namespace xw::exporter {
namespace {

// As ReadFile before: a runaway writer costs an error, not the exporter's memory.
constexpr std::size_t kMaxFileBytes = 16u << 20;

// A *.prom file's content and modification time. Opened without blocking and refused unless
// it is a regular file: a FIFO would block the scrape until some writer opened it (and a
// device could be read forever).
std::string ReadRegularFile(const std::string& path, double& mtime) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!fd.ok()) throw ParseError(std::string("cannot open: ") + std::strerror(errno));
  struct stat sb {};
  if (::fstat(fd.get(), &sb) != 0) throw ParseError(std::string("cannot stat: ") + std::strerror(errno));
  if (!S_ISREG(sb.st_mode)) throw ParseError("not a regular file");
  if (static_cast<std::uint64_t>(sb.st_size) > kMaxFileBytes) {
    throw ParseError("larger than " + std::to_string(kMaxFileBytes >> 20) + " MiB");
  }
  std::string text(static_cast<std::size_t>(sb.st_size), '\0');
  std::size_t got = 0;
  for (;;) {
    if (got == text.size()) {
      if (text.size() >= kMaxFileBytes) throw ParseError("larger than " + std::to_string(kMaxFileBytes >> 20) + " MiB");
      text.resize(std::min(kMaxFileBytes, text.size() + 4096));  // the file grew since fstat
    }
    const ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw ParseError(std::string("cannot read: ") + std::strerror(errno));
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  text.resize(got);
  mtime = static_cast<double>(sb.st_mtim.tv_sec);
  return text;
}

// The first series with a label value that is not UTF-8, or empty. The writer leaves such a
// series out (text_format.h); the file's other series are served.
std::string FirstInvalidUtf8(const std::vector<ParsedFamily>& families) {
  for (const auto& f : families) {
    for (const auto& s : f.samples) {
      for (const auto& [n, v] : s.labels) {
        if (!IsValidUtf8(v)) return s.name + " (label " + n + ")";
      }
    }
  }
  return {};
}

struct Merged {
  ParsedFamily family;             // help empty when no file gave one
  std::vector<std::string> files;  // contributing files, for the default HELP
};

struct State {
  std::vector<Merged> families;
  std::map<std::string, std::size_t> index;
  std::set<std::string> series;  // name + labels of every accepted sample
};

std::string SeriesKey(const ParsedSample& s) {
  std::string k = s.name;
  for (const auto& [n, v] : s.labels) k += '\x1f' + n + '\x1e' + v;
  return k;
}

// "le" and "quantile" values: a number, or +Inf/-Inf/NaN as the exposition format writes them.
std::optional<double> Bound(const std::string& v) {
  if (v == "+Inf" || v == "Inf") return std::numeric_limits<double>::infinity();
  if (v == "-Inf") return -std::numeric_limits<double>::infinity();
  if (v == "NaN") return std::numeric_limits<double>::quiet_NaN();
  return ToDouble(v);
}

prometheus::MetricType TypeOf(const std::string& t) {
  if (t == "counter") return prometheus::MetricType::Counter;
  if (t == "gauge") return prometheus::MetricType::Gauge;
  if (t == "histogram") return prometheus::MetricType::Histogram;
  if (t == "summary") return prometheus::MetricType::Summary;
  return prometheus::MetricType::Untyped;
}

// Pads each sample of a family read from one file with the label names its siblings have,
// empty-valued, as node_exporter's convertMetricFamily does.
void PadLabels(ParsedFamily& f) {
  std::set<std::string> names;
  for (const auto& s : f.samples) {
    for (const auto& [n, v] : s.labels) {
      if (n != "le" && n != "quantile") names.insert(n);
    }
  }
  for (auto& s : f.samples) {
    for (const auto& n : names) s.labels.emplace(n, "");
  }
}

// Checks a parsed file against what earlier files contributed, then merges it, all or nothing.
void MergeFile(std::vector<ParsedFamily> parsed, const std::string& path, State& st) {
  std::set<std::string> added;
  for (auto& f : parsed) {
    const char* bound = f.type == "histogram" ? "le" : f.type == "summary" ? "quantile" : nullptr;
    for (const auto& s : f.samples) {
      if (s.has_timestamp) throw ParseError("contains unsupported client-side timestamps, skipping entire file");
      if (const auto b = bound ? s.labels.find(bound) : s.labels.end(); b != s.labels.end() && !Bound(b->second)) {
        throw ParseError(s.name + ": " + bound + "=\"" + b->second + "\" is not a number");
      }
      if (st.series.contains(SeriesKey(s)) || !added.insert(SeriesKey(s)).second) {
        throw ParseError("series " + s.name + " was already read from another file");
      }
    }
    const auto it = st.index.find(f.name);
    if (it == st.index.end()) continue;
    const ParsedFamily& prev = st.families[it->second].family;
    if (prev.type != f.type) throw ParseError(f.name + " has TYPE " + f.type + ", another file says " + prev.type);
    if (!prev.help.empty() && !f.help.empty() && prev.help != f.help) {
      throw ParseError(f.name + " has a HELP text different from another file's");
    }
  }
  st.series.insert(added.begin(), added.end());
  for (auto& f : parsed) {
    if (f.samples.empty()) continue;  // HELP/TYPE alone: nothing to serve
    PadLabels(f);
    auto [it, fresh] = st.index.emplace(f.name, st.families.size());
    if (fresh) {
      st.families.push_back({std::move(f), {path}});
      continue;
    }
    Merged& m = st.families[it->second];
    if (m.family.help.empty()) m.family.help = f.help;
    m.files.push_back(path);
    for (auto& s : f.samples) m.family.samples.push_back(std::move(s));
  }
}

// Histogram and summary samples (name_bucket, name_sum, name_count, name{quantile}) folded back
// into one ClientMetric per label set.
void AddComplex(prometheus::MetricFamily& out, const ParsedFamily& f, const std::string& skip_label) {
  std::map<Labels, prometheus::ClientMetric, bool (*)(const Labels&, const Labels&)> by_labels(
      [](const Labels& a, const Labels& b) {
        return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
          return std::tie(x.name, x.value) < std::tie(y.name, y.value);
        });
      });
  for (const auto& s : f.samples) {
    Labels labels;
    double bound = 0;
    for (const auto& [n, v] : s.labels) {
      if (n == skip_label) {
        bound = Bound(v).value_or(0);  // checked when the file was merged
      } else {
        labels.push_back({n, v});
      }
    }
    auto& m = by_labels[labels];
    m.label = labels;
    const std::string suffix = s.name.substr(f.name.size());
    if (suffix == "_sum") {
      (f.type == "histogram" ? m.histogram.sample_sum : m.summary.sample_sum) = s.value;
    } else if (suffix == "_count") {
      (f.type == "histogram" ? m.histogram.sample_count : m.summary.sample_count) = static_cast<std::uint64_t>(s.value);
    } else if (suffix == "_bucket") {
      m.histogram.bucket.push_back({static_cast<std::uint64_t>(s.value), bound});
    } else {
      m.summary.quantile.push_back({bound, s.value});
    }
  }
  for (auto& [labels, m] : by_labels) {
    std::sort(m.histogram.bucket.begin(), m.histogram.bucket.end(),
              [](const auto& a, const auto& b) { return a.upper_bound < b.upper_bound; });
    std::sort(m.summary.quantile.begin(), m.summary.quantile.end(),
              [](const auto& a, const auto& b) { return a.quantile < b.quantile; });
    out.metric.push_back(std::move(m));
  }
}

class TextfileCollector : public Collector {
 public:
  explicit TextfileCollector(const CollectorContext& ctx) : pattern_(ctx.Option("collector.textfile.directory")) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    bool errored = false;
    State st;
    auto mtimes = Gauge("node_textfile_mtime_seconds", "Unixtime mtime of textfiles successfully read.");
    std::vector<std::pair<std::string, double>> read_ok;
    for (const auto& dir : Directories()) {
      std::vector<std::string> files;
      std::error_code ec;
      for (auto& e : ListDirectory(dir, ec)) {
        if (e.name.ends_with(".prom")) files.push_back(std::move(e.name));
      }
      if (ec) {
        errored = true;
        log::Error("failed to read textfile collector directory", {{"path", dir}, {"err", ec.message()}});
        continue;
      }
      std::sort(files.begin(), files.end());
      for (const auto& name : files) {
        const std::string path = (std::filesystem::path(dir) / name).string();
        try {
          double mtime = 0;
          auto parsed = ParseExposition(ReadRegularFile(path, mtime));
          // node_exporter refuses such a file whole and reports the error; here only the bad
          // series goes, but the error is reported all the same.
          if (const std::string bad = FirstInvalidUtf8(parsed); !bad.empty()) {
            errored = true;
            log::Error("textfile series with a label value that is not UTF-8 left out",
                       {{"file", path}, {"series", bad}});
          }
          MergeFile(std::move(parsed), path, st);
          // Only once the file is accepted, so a broken file never looks fresh.
          read_ok.emplace_back(path, mtime);
        } catch (const std::exception& e) {
          errored = true;
          log::Error("failed to collect textfile data", {{"file", path}, {"err", e.what()}});
        }
      }
    }
    std::vector<prometheus::MetricFamily> out;
    for (auto& m : st.families) {
      ParsedFamily& f = m.family;
      if (f.help.empty()) {
        f.help = "Metric read from ";
        for (std::size_t i = 0; i < m.files.size(); ++i) f.help += (i ? ", " : "") + m.files[i];
      }
      if (f.type == "histogram" || f.type == "summary") {
        prometheus::MetricFamily mf{f.name, f.help, TypeOf(f.type), {}};
        AddComplex(mf, f, f.type == "histogram" ? "le" : "quantile");
        out.push_back(std::move(mf));
        continue;
      }
      Family fam(f.name, f.help, TypeOf(f.type));
      for (const auto& s : f.samples) {
        Labels labels;
        for (const auto& [n, v] : s.labels) labels.push_back({n, v});
        fam.Add(s.value, std::move(labels));
      }
      Emit(out, std::move(fam));
    }
    std::sort(read_ok.begin(), read_ok.end());
    for (const auto& [path, t] : read_ok) mtimes.Add(t, {{"file", path}});
    Emit(out, std::move(mtimes));
    Emit(out, Gauge("node_textfile_scrape_error", "1 if there was an error opening or reading a file, 0 otherwise")
                  .Add(errored ? 1 : 0));
    return out;
  }

 private:
  // The flag may be a glob of directories; no match means a plain directory (which may
  // not exist yet: reported as an error, as node_exporter does). Empty: nothing to read.
  std::vector<std::string> Directories() const {
    if (pattern_.empty()) return {};
    glob_t g{};
    std::vector<std::string> dirs;
    if (::glob(pattern_.c_str(), 0, nullptr, &g) == 0) {
      for (std::size_t i = 0; i < g.gl_pathc; ++i) dirs.emplace_back(g.gl_pathv[i]);
    }
    ::globfree(&g);
    if (dirs.empty()) dirs.push_back(pattern_);
    return dirs;
  }

  std::string pattern_;
};

const CollectorRegistrar kRegistrar({
    .name = "textfile",
    .enabled_by_default = true,
    .help = "Metrics from *.prom files in --collector.textfile.directory",
    .flags = {StringFlag("collector.textfile.directory", "/var/lib/prometheus/node-exporter",
                         "Directory (or glob of directories) to read *.prom files with metrics from")},
    .make = [](const CollectorContext& ctx) { return std::make_unique<TextfileCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
