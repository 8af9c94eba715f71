// node_filesystem_* from the mount table and statfs(2).
//
// A statfs on a dead NFS server can block for minutes. Except for local disk and memory
// filesystems, the statfs calls run on a worker thread and each scrape waits at most
// --collector.filesystem.mount-timeout per mount; a mount that times out is reported with
// device_error 1 and not asked again until its statfs finally returns.
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <sys/vfs.h>

#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "collector.h"
#include "kept_file.h"
#include "log.h"
#include "match_cache.h"
#include "metric_family.h"
#include "text_file.h"
#include "unique_fd.h"
#include "web_config.h"

namespace xw::exporter {
namespace {

struct Mount {
  std::string device, mountpoint, fstype;
  bool readonly = false;
};

// /proc/mounts escapes space, tab, newline and backslash as octal.
std::string Unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      const auto oct = s.substr(i + 1, 3);
      if (oct.find_first_not_of("01234567") == std::string_view::npos) {
        out.push_back(static_cast<char>((oct[0] - '0') * 64 + (oct[1] - '0') * 8 + (oct[2] - '0')));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// Filesystems whose statfs is answered from in-memory counters, never over a network.
const std::set<std::string, std::less<>> kLocalFsTypes = {"ext2", "ext3", "ext4",  "xfs",   "btrfs",
                                                          "f2fs", "vfat", "exfat", "tmpfs", "ramfs"};

struct StatResult {
  bool done = false;
  int err = 0;
  struct statfs buf {};
};

// One scrape's statfs calls.
struct StatBatch {
  std::vector<std::string> paths;        // what to statfs (under --path.rootfs)
  std::vector<std::string> mountpoints;  // the same mounts as the host names them
  std::vector<StatResult> results;
  bool abandoned = false;
};

// Mount points whose statfs has not returned yet; the worker that unblocks clears its entry.
struct StuckSet {
  std::mutex mu;
  std::set<std::string> paths;
};

// A thread that runs statfs calls for the collector, kept across scrapes (a thread per scrape
// cost more than the statfs calls). When a call hangs, the collector abandons this worker
// to it and starts another; the abandoned one exits once the call returns.
class StatfsWorker {
 public:
  explicit StatfsWorker(std::shared_ptr<StuckSet> stuck) : state_(std::make_shared<State>()) {
    std::thread(Loop, state_, std::move(stuck)).detach();
  }
  ~StatfsWorker() {
    std::lock_guard lock(state_->mu);
    state_->stop = true;
    state_->cv.notify_all();
  }
  StatfsWorker(const StatfsWorker&) = delete;
  StatfsWorker& operator=(const StatfsWorker&) = delete;

  // Runs the batch; returns how many leading results arrived before `timeout` ran out on one.
  // On a timeout the batch is abandoned and this worker must not be used again.
  std::size_t Run(std::shared_ptr<StatBatch> batch, std::chrono::milliseconds timeout) {
    std::unique_lock lock(state_->mu);
    state_->batch = batch;
    // Notified without the lock held, so the worker does not wake only to block on it.
    lock.unlock();
    state_->cv.notify_one();
    lock.lock();
    // The worker wakes us once, when the batch is done (a wake-up per mount cost two context
    // switches each). Each time `timeout` runs out before that, progress is checked: a call
    // that made no progress for a whole timeout is stuck, so a hung mount is given up after
    // one to two timeouts.
    const auto finished = [&] { return Done(*batch); };
    std::size_t seen = Done(*batch);
    while (!state_->done_cv.wait_for(lock, timeout, [&] { return finished() == batch->paths.size(); })) {
      const std::size_t now = finished();
      if (now == seen) {
        batch->abandoned = true;
        return now;
      }
      seen = now;
    }
    state_->batch.reset();
    return batch->paths.size();
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;       // work for the worker, or stop
    std::condition_variable done_cv;  // a batch finished, for the collector
    std::shared_ptr<StatBatch> batch;
    bool stop = false;
  };

  static std::size_t Done(const StatBatch& b) {
    std::size_t n = 0;
    while (n < b.results.size() && b.results[n].done) ++n;
    return n;
  }

  static void Loop(std::shared_ptr<State> state, const std::shared_ptr<StuckSet>& stuck) {
    std::unique_lock lock(state->mu);
    for (;;) {
      state->cv.wait(lock, [&] {
        return state->stop || (state->batch && !state->batch->results.empty() && !state->batch->results.back().done);
      });
      if (state->stop) return;
      const auto batch = state->batch;
      for (std::size_t i = 0; i < batch->paths.size(); ++i) {
        const std::string path = batch->paths[i];
        lock.unlock();
        StatResult r;
        r.err = ::statfs(path.c_str(), &r.buf) == 0 ? 0 : errno;
        r.done = true;
        lock.lock();
        batch->results[i] = r;
        if (batch->abandoned) {
          // The call that blocked has returned: that mount may be watched again.
          std::lock_guard stuck_lock(stuck->mu);
          stuck->paths.erase(batch->mountpoints[i]);
          return;
        }
        if (i + 1 == batch->paths.size()) {
          lock.unlock();
          state->done_cv.notify_all();
          lock.lock();
        }
      }
    }
  }

  std::shared_ptr<State> state_;
};

// The mount table changes rarely and costs tens of microseconds to print. proc(5): a
// /proc/PID/mounts descriptor reports POLLPRI once after each mount or unmount in its
// namespace (the kernel remembers, per open file, the last change it reported). So the table
// is parsed again only after such an event; a file that is not procfs's (a fixture, a copy
// under --path.procfs) cannot tell, and is parsed every time.
class MountTableWatch {
 public:
  explicit MountTableWatch(std::string path) : path_(std::move(path)) {}

  // True when the table may differ from the one parsed last time.
  bool Changed() {
    if (unwatchable_) return true;
    if (!fd_.ok()) {
      // Opened before the first parse: a change after this point is reported by the next poll.
      fd_ = UniqueFd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
      struct statfs fs {};
      if (!fd_.ok() || ::fstatfs(fd_.get(), &fs) != 0 || fs.f_type != PROC_SUPER_MAGIC) {
        fd_ = UniqueFd();
        unwatchable_ = true;
      }
      return true;
    }
    pollfd p{.fd = fd_.get(), .events = POLLPRI, .revents = 0};
    return ::poll(&p, 1, 0) != 0 && (p.revents & (POLLPRI | POLLERR | POLLNVAL)) != 0;
  }

 private:
  std::string path_;
  UniqueFd fd_;
  bool unwatchable_ = false;
};

class FilesystemCollector : public Collector {
 public:
  explicit FilesystemCollector(const CollectorContext& ctx)
      : paths_(ctx.paths),
        mount_exclude_(ctx.Option("collector.filesystem.mount-points-exclude"),
                       "collector.filesystem.mount-points-exclude"),
        fstype_exclude_(ctx.Option("collector.filesystem.fs-types-exclude"), "collector.filesystem.fs-types-exclude"),
        stuck_(std::make_shared<StuckSet>()) {
    const auto timeout = ctx.DurationOption("collector.filesystem.mount-timeout");
    if (timeout <= std::chrono::nanoseconds::zero()) {
      throw ConfigError("--collector.filesystem.mount-timeout must be positive, got " + FormatGoDuration(timeout));
    }
    timeout_ = std::max(std::chrono::milliseconds(1), std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<Mount> mounts = Mounts();
    // A mount whose statfs still hangs is not asked again; like node_exporter, it is reported
    // with device_error 1 (and no sizes), so alerts can see it.
    std::vector<Mount> stuck;
    {
      std::lock_guard lock(stuck_->mu);
      std::erase_if(mounts, [&](const Mount& m) {
        if (!stuck_->paths.contains(m.mountpoint)) return false;
        log::Debug("mount point still unresponsive, skipping", {{"mountpoint", m.mountpoint}});
        stuck.push_back(m);
        return true;
      });
    }
    const std::vector<StatResult> stats = StatAll(mounts);

    auto size = Gauge("node_filesystem_size_bytes", "Filesystem size in bytes.");
    auto free = Gauge("node_filesystem_free_bytes", "Filesystem free space in bytes.");
    auto avail = Gauge("node_filesystem_avail_bytes", "Filesystem space available to non-root users in bytes.");
    auto files = Gauge("node_filesystem_files", "Filesystem total file nodes.");
    auto files_free = Gauge("node_filesystem_files_free", "Filesystem total free file nodes.");
    auto ro = Gauge("node_filesystem_readonly", "Filesystem read-only status.");
    auto dev_err = Gauge("node_filesystem_device_error",
                         "Whether an error occurred while getting statistics for the given device.");
    for (const Mount& m : stuck) {
      const Labels labels{{"device", m.device}, {"fstype", m.fstype}, {"mountpoint", m.mountpoint}};
      dev_err.Add(1, labels);
      ro.Add(m.readonly ? 1 : 0, labels);
    }
    for (std::size_t i = 0; i < mounts.size(); ++i) {
      const Mount& m = mounts[i];
      const StatResult& r = stats[i];
      Labels labels{{"device", m.device}, {"fstype", m.fstype}, {"mountpoint", m.mountpoint}};
      // Not done: timed out in this scrape (and now in the stuck set).
      const bool failed = !r.done || r.err != 0;
      dev_err.Add(failed ? 1 : 0, labels);
      ro.Add(m.readonly ? 1 : 0, labels);
      if (failed) continue;
      const double bsize = static_cast<double>(r.buf.f_bsize);
      size.Add(static_cast<double>(r.buf.f_blocks) * bsize, labels);
      free.Add(static_cast<double>(r.buf.f_bfree) * bsize, labels);
      avail.Add(static_cast<double>(r.buf.f_bavail) * bsize, labels);
      files.Add(static_cast<double>(r.buf.f_files), labels);
      files_free.Add(static_cast<double>(r.buf.f_ffree), labels);
    }
    std::vector<prometheus::MetricFamily> out;
    for (auto* f : {&avail, &dev_err, &files, &files_free, &free, &ro, &size}) Emit(out, std::move(*f));
    return out;
  }

 private:
  std::vector<Mount> Mounts() const {
    std::lock_guard lock(mounts_mu_);
    const bool changed = watch_.Changed();  // first: it may open the watch, before the read
    if (changed || !mounts_) {
      mounts_.reset();  // a read that throws leaves nothing stale behind for the next scrape
      mounts_ = ReadMounts();
    }
    return *mounts_;
  }

  std::vector<Mount> ReadMounts() const {
    auto text = mounts_file_.ReadIfExists();
    std::string source = paths_.Proc("1/mounts");
    if (!text) {
      source = paths_.Proc("mounts");
      text = ReadFile(source);
    }
    std::vector<Mount> mounts;
    std::set<std::tuple<std::string, std::string, std::string>> seen;
    std::size_t line_no = 0;
    for (std::string_view line : Lines(*text)) {
      ++line_no;
      const auto f = Fields(line);
      if (f.empty()) continue;
      if (f.size() < 4) throw ParseError(source + " line " + std::to_string(line_no) + ": expected at least 4 fields");
      Mount m{Unescape(f[0]), Unescape(f[1]), std::string(f[2]), false};
      if (mount_exclude_.Matches(m.mountpoint) || fstype_exclude_.Matches(m.fstype)) continue;
      std::string_view opts = f[3];
      while (!opts.empty()) {
        const auto comma = opts.find(',');
        if (opts.substr(0, comma) == "ro") m.readonly = true;
        if (comma == std::string_view::npos) break;
        opts.remove_prefix(comma + 1);
      }
      if (!seen.emplace(m.device, m.mountpoint, m.fstype).second) continue;
      mounts.push_back(std::move(m));
    }
    return mounts;
  }

  std::vector<StatResult> StatAll(const std::vector<Mount>& mounts) const {
    std::vector<StatResult> results(mounts.size());
    // Disk and memory filesystems answer statfs from counters in memory: asked here, without
    // a round trip to the worker. The rest (NFS, CIFS, FUSE, ...) may hang and go to it.
    std::vector<std::size_t> guarded;
    for (std::size_t i = 0; i < mounts.size(); ++i) {
      if (!kLocalFsTypes.contains(mounts[i].fstype)) {
        guarded.push_back(i);
        continue;
      }
      results[i].err = ::statfs(paths_.Root(mounts[i].mountpoint).c_str(), &results[i].buf) == 0 ? 0 : errno;
      results[i].done = true;
    }
    std::lock_guard scrape_lock(scrape_mu_);  // one scrape at a time drives the worker
    std::size_t next = 0;
    while (next < guarded.size()) {
      auto batch = std::make_shared<StatBatch>();
      for (std::size_t k = next; k < guarded.size(); ++k) {
        batch->paths.push_back(paths_.Root(mounts[guarded[k]].mountpoint));
        batch->mountpoints.push_back(mounts[guarded[k]].mountpoint);
      }
      batch->results.resize(batch->paths.size());
      if (!worker_) worker_ = std::make_unique<StatfsWorker>(stuck_);
      const std::size_t answered = worker_->Run(batch, timeout_);
      for (std::size_t k = 0; k < answered; ++k) results[guarded[next + k]] = batch->results[k];
      if (answered == batch->paths.size()) break;
      // That mount did not answer in time: leave the worker to it, use a new one.
      worker_.reset();
      const std::string& mp = mounts[guarded[next + answered]].mountpoint;
      log::Warn("mount point timed out, marking it stuck and skipping it until it answers",
                {{"mountpoint", mp}, {"timeout", std::to_string(timeout_.count()) + "ms"}});
      {
        std::lock_guard stuck_lock(stuck_->mu);
        stuck_->paths.insert(mp);
      }
      next += answered + 1;
    }
    return results;
  }

  Paths paths_;
  mutable KeptFile mounts_file_{paths_.Proc("1/mounts")};
  mutable std::mutex mounts_mu_;
  mutable MountTableWatch watch_{paths_.Proc("1/mounts")};
  mutable std::optional<std::vector<Mount>> mounts_;  // as last parsed, exclusions applied
  MatchCache mount_exclude_;
  MatchCache fstype_exclude_;
  std::chrono::milliseconds timeout_{5000};
  std::shared_ptr<StuckSet> stuck_;
  mutable std::mutex scrape_mu_;
  mutable std::unique_ptr<StatfsWorker> worker_;
};

const CollectorRegistrar kRegistrar({
    .name = "filesystem",
    .enabled_by_default = true,
    .help = "Filesystem size, free space and inodes from statfs(2)",
    .flags = {RegexFlag("collector.filesystem.mount-points-exclude",
                        "^/(dev|proc|run|sys|mnt|media|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)",
                        "Regexp of mount points to exclude (Debian's node_exporter default)",
                        {"collector.filesystem.ignored-mount-points"}),
              RegexFlag(
                  "collector.filesystem.fs-types-exclude",
                  "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|"
                  "mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$",
                  "Regexp of filesystem types to exclude", {"collector.filesystem.ignored-fs-types"}),
              DurationFlag("collector.filesystem.mount-timeout", "5s",
                           "How long to wait for statfs on one mount before marking it stuck")},
    .make = [](const CollectorContext& ctx) { return std::make_unique<FilesystemCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
