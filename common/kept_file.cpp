#include "kept_file.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "text_file.h"

namespace xw {
namespace {

enum class Source { kOther, kProcfs, kSysfs };

Source SourceOf(int fd) {
  struct statfs fs {};
  if (::fstatfs(fd, &fs) != 0) return Source::kOther;
  if (fs.f_type == PROC_SUPER_MAGIC) return Source::kProcfs;
  if (fs.f_type == SYSFS_MAGIC) return Source::kSysfs;
  return Source::kOther;
}

}  // namespace

KeptFile::KeptFile(std::string path, Printed printed, std::size_t max_bytes)
    : path_(std::move(path)), max_bytes_(max_bytes), printed_(printed) {}

std::optional<std::string> KeptFile::ReadIfExists() {
  std::lock_guard lock(mu_);
  if (fd_.ok()) {
    // A descriptor can go bad under us (the device of a sysfs file went away): start over once.
    try {
      return ReadAll(fd_.get(), fd_in_one_piece_);
    } catch (const ParseError&) {
      fd_ = UniqueFd();
    }
  }
  UniqueFd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    throw ParseError(path_ + ": " + std::strerror(errno));
  }
  const Source source = SourceOf(fd.get());
  // Any other filesystem: read through this descriptor and let it go; the next read opens the
  // path again.
  if (source == Source::kOther) return ReadAll(fd.get(), false);
  fd_ = std::move(fd);
  fd_in_one_piece_ = source == Source::kSysfs || printed_ == Printed::kInOnePiece;
  return ReadAll(fd_.get(), fd_in_one_piece_);
}

std::string KeptFile::Read() {
  auto content = ReadIfExists();
  if (!content) throw ParseError(path_ + ": no such file");
  return std::move(*content);
}

std::string KeptFile::ReadAll(int fd, bool in_one_piece) {
  std::string out;
  // Room for the content to grow a little: a buffer this close to the size it needs keeps a
  // small file's buffer within malloc's per-thread cache (up to about 1 KiB), where a larger
  // request makes malloc consolidate its free chunks first, on every read.
  out.resize(last_size_ + 128);
  std::size_t used = 0;
  for (;;) {
    // Until a read returns nothing (a seq_file hands out about a page of records per read),
    // or less than asked for when the file is printed in one piece.
    const ssize_t n = ::pread(fd, out.data() + used, out.size() - used, static_cast<off_t>(used));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw ParseError(path_ + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
    if (used > max_bytes_) throw ParseError(path_ + ": larger than " + std::to_string(max_bytes_) + " bytes");
    if (used == out.size()) {
      out.resize(out.size() * 2);
    } else if (in_one_piece) {
      break;  // less than asked for: the end (see Printed::kInOnePiece)
    }
  }
  out.resize(used);
  last_size_ = used;
  return out;
}

}  // namespace xw
