#include "kept_file.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "text_file.h"
#include "unique_fd.h"

namespace xw {
namespace {

bool RegeneratesOnRead(int fd) {
  struct statfs fs {};
  if (::fstatfs(fd, &fs) != 0) return false;
  return fs.f_type == PROC_SUPER_MAGIC || fs.f_type == SYSFS_MAGIC;
}

}  // namespace

KeptFile::KeptFile(std::string path, std::size_t max_bytes) : path_(std::move(path)), max_bytes_(max_bytes) {}

KeptFile::~KeptFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<std::string> KeptFile::ReadIfExists() {
  std::lock_guard lock(mu_);
  if (fd_ >= 0) {
    // A descriptor can go bad under us (the device of a sysfs file went away): start over once.
    try {
      return ReadAll(fd_);
    } catch (const ParseError&) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    throw ParseError(path_ + ": " + std::strerror(errno));
  }
  if (!RegeneratesOnRead(fd)) {
    // Read through this descriptor and let it go: the next read opens the path again.
    const UniqueFd closer(fd);
    return ReadAll(fd);
  }
  fd_ = fd;
  return ReadAll(fd_);
}

std::string KeptFile::Read() {
  auto content = ReadIfExists();
  if (!content) throw ParseError(path_ + ": no such file");
  return std::move(*content);
}

std::string KeptFile::ReadAll(int fd) {
  std::string out;
  out.resize(last_size_ + 4096);
  std::size_t used = 0;
  for (;;) {
    // Until a read returns nothing: a seq_file hands out about a page per read.
    const ssize_t n = ::pread(fd, out.data() + used, out.size() - used, static_cast<off_t>(used));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw ParseError(path_ + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
    if (used > max_bytes_) throw ParseError(path_ + ": larger than " + std::to_string(max_bytes_) + " bytes");
    if (used == out.size()) out.resize(out.size() * 2);
  }
  out.resize(used);
  last_size_ = used;
  return out;
}

}  // namespace xw
