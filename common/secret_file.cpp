#include "secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "unique_fd.h"

namespace xw {

std::string ReadSecretFile(const std::string& path, SecretFileMode mode) {
  constexpr std::size_t kMax = 64 * 1024;
  // O_NONBLOCK: a FIFO put in place of the file must not hang the daemon at start.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.ok()) throw ConfigError("cannot open secret file " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    throw ConfigError("secret file " + path + " is not a regular file");
  }
  if (mode == SecretFileMode::kOwnerOnly && (st.st_mode & 077) != 0) {
    throw ConfigError("secret file " + path + " is accessible to group or others (run chmod 600 on it)");
  }
  if (static_cast<std::size_t>(st.st_size) > kMax) throw ConfigError("secret file " + path + " is over 64 KiB");
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw ConfigError("cannot read secret file " + path + ": " + std::strerror(errno));
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  text.resize(got);
  text = text.substr(0, text.find('\n'));
  while (!text.empty() && (text.back() == '\r' || text.back() == ' ' || text.back() == '\t')) text.pop_back();
  if (text.empty()) throw ConfigError("secret file " + path + " is empty");
  return text;
}

}  // namespace xw
