#include "dir_list.h"

#include <dirent.h>

#include <cerrno>
#include <memory>

namespace xw {

std::vector<DirEntry> ListDirectory(const std::string& dir, std::error_code& ec) {
  ec.clear();
  const std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) {
    ec.assign(errno, std::generic_category());
    return {};
  }
  std::vector<DirEntry> out;
  errno = 0;
  while (const dirent* e = ::readdir(d.get())) {
    const std::string_view name = e->d_name;
    if (name != "." && name != "..") out.push_back({std::string(name), e->d_type, e->d_ino});
    errno = 0;
  }
  if (errno != 0) {
    ec.assign(errno, std::generic_category());
    return {};
  }
  return out;
}

}  // namespace xw
