// The filesystem collector against real mounts, made in a private mount namespace of the test
// process (ctest runs each test in its own process), so nothing else sees them: a mount that
// really hangs (a FUSE filesystem whose daemon never answers, so statfs blocks until the
// connection is aborted, as on a dead NFS server), and a tmpfs mounted and unmounted while the
// collector keeps its parsed mount table.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "collect.h"

namespace xw::testing {
namespace {

// Moves this process into a mount namespace of its own; the reason when it cannot.
std::string PrivateMountNamespace() {
  if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return std::string("private mount namespace: ") + std::strerror(errno);
  }
  return "";
}

class HangingFuseMount {
 public:
  explicit HangingFuseMount(std::filesystem::path dir) : dir_(std::move(dir)) {
    if (error_ = PrivateMountNamespace(); !error_.empty()) return;
    fd_ = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
    if (fd_ < 0) {
      error_ = std::string("/dev/fuse: ") + std::strerror(errno);
      return;
    }
    const std::string options = "fd=" + std::to_string(fd_) + ",rootmode=40000,user_id=0,group_id=0";
    if (::mount("xwhang", dir_.c_str(), "fuse.xwhang", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
      error_ = std::string("mount fuse: ") + std::strerror(errno);
      return;
    }
    mounted_ = true;
  }
  ~HangingFuseMount() {
    Abort();
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  HangingFuseMount(const HangingFuseMount&) = delete;
  HangingFuseMount& operator=(const HangingFuseMount&) = delete;

  // Closing the daemon's end aborts the connection: hung calls return ENOTCONN.
  void Abort() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  const std::string& error() const { return error_; }

 private:
  std::filesystem::path dir_;
  int fd_ = -1;
  bool mounted_ = false;
  std::string error_;
};

TEST(FilesystemCollector, HungMountTimesOutAndOthersAreStillReported) {
  const auto tmp = std::filesystem::temp_directory_path() / ("xw-hang-" + std::to_string(::getpid()));
  const auto mountpoint = tmp / "nfs";
  std::filesystem::create_directories(mountpoint);
  std::filesystem::create_directories(tmp / "proc/1");
  std::ofstream(tmp / "proc/1/mounts") << "/dev/vda / ext4 rw,relatime 0 0\n"
                                       << "xwhang " << mountpoint.string() << " fuse.xwhang rw,nosuid,nodev 0 0\n";
  {
    HangingFuseMount hang(mountpoint);
    if (!hang.error().empty()) GTEST_SKIP() << "cannot make a hanging mount here: " << hang.error();

    exporter::Paths paths;
    paths.procfs = (tmp / "proc").string();
    auto c = MakeCollector("filesystem", paths, {{"collector.filesystem.mount-timeout", "0.2"}});
    const std::map<std::string, std::string> hung{
        {"device", "xwhang"}, {"fstype", "fuse.xwhang"}, {"mountpoint", mountpoint.string()}};
    const std::map<std::string, std::string> root{{"device", "/dev/vda"}, {"fstype", "ext4"}, {"mountpoint", "/"}};
    // Without the timeout this call would block until the test's own ctest timeout.
    auto f = c->Collect();
    EXPECT_EQ(Value(f, "node_filesystem_device_error", hung), 1);
    EXPECT_FALSE(Value(f, "node_filesystem_size_bytes", hung));
    EXPECT_GT(Value(f, "node_filesystem_size_bytes", root).value_or(0), 0);
    // While the call still hangs the mount is skipped outright, not waited for again.
    f = c->Collect();
    EXPECT_EQ(Value(f, "node_filesystem_device_error", hung), 1);
    EXPECT_GT(Value(f, "node_filesystem_size_bytes", root).value_or(0), 0);
    hang.Abort();
  }
  std::filesystem::remove_all(tmp);
}

// The parsed mount table is kept until procfs reports a mount or unmount (POLLPRI on the
// mounts file): both must show in the next scrape. --path.procfs points at a directory whose
// "1" is this process's /proc entry, so the watched file is procfs's own, for this namespace.
TEST(FilesystemCollector, MountTableReadAgainAfterAMountOrUnmount) {
  if (const auto why = PrivateMountNamespace(); !why.empty()) GTEST_SKIP() << why;
  const auto tmp = std::filesystem::temp_directory_path() / ("xw-mnt-" + std::to_string(::getpid()));
  const auto mountpoint = tmp / "data";
  std::filesystem::create_directories(mountpoint);
  std::filesystem::create_directories(tmp / "proc");
  std::filesystem::create_directory_symlink("/proc/" + std::to_string(::getpid()), tmp / "proc/1");
  exporter::Paths paths;
  paths.procfs = (tmp / "proc").string();
  auto c = MakeCollector("filesystem", paths);
  const std::map<std::string, std::string> labels{
      {"device", "xwtest"}, {"fstype", "tmpfs"}, {"mountpoint", mountpoint.string()}};
  EXPECT_FALSE(Value(c->Collect(), "node_filesystem_size_bytes", labels));
  EXPECT_FALSE(Value(c->Collect(), "node_filesystem_size_bytes", labels));  // the table is kept now
  ASSERT_EQ(::mount("xwtest", mountpoint.c_str(), "tmpfs", 0, "size=1m"), 0) << std::strerror(errno);
  EXPECT_EQ(Value(c->Collect(), "node_filesystem_size_bytes", labels), 1 << 20);
  EXPECT_EQ(Value(c->Collect(), "node_filesystem_size_bytes", labels), 1 << 20);
  ASSERT_EQ(::umount(mountpoint.c_str()), 0) << std::strerror(errno);
  EXPECT_FALSE(Value(c->Collect(), "node_filesystem_size_bytes", labels));
  std::filesystem::remove_all(tmp);
}

}  // namespace
}  // namespace xw::testing
