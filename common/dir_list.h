// Directory listing with opendir/readdir: five system calls for a small directory, where
// std::filesystem::directory_iterator makes seven (it adds two fcntl calls), and each entry's
// type and inode come with it, so telling files from directories needs no stat.
#pragma once

#include <sys/types.h>

#include <string>
#include <system_error>
#include <vector>

namespace xw {

struct DirEntry {
  std::string name;
  unsigned char type;  // DT_DIR, DT_REG, DT_LNK, ... (DT_UNKNOWN where the filesystem does not say)
  ino_t ino;
};

// The entries of `dir` without "." and "..", in no particular order. When the directory
// cannot be read, `ec` says why and the result is empty.
std::vector<DirEntry> ListDirectory(const std::string& dir, std::error_code& ec);

}  // namespace xw
