// A /proc or /sys file held open across scrapes and read again from offset 0. procfs and
// sysfs generate a file's content afresh on every read from the start, so the result is the
// same as opening it anew, without the path lookup, open and close each scrape (a third of
// the exporter's system calls per scrape with node_exporter's default collectors).
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>

namespace xw {

class KeptFile {
 public:
  explicit KeptFile(std::string path, std::size_t max_bytes = 16u << 20);
  ~KeptFile();
  KeptFile(const KeptFile&) = delete;
  KeptFile& operator=(const KeptFile&) = delete;

  // Like ReadFileIfExists / ReadFile (text_file.h): nullopt or ParseError when missing, and
  // ParseError naming the file for other failures. A file on any other filesystem (the test
  // fixtures, a copy under --path.procfs) is opened and closed every time, as a file replaced
  // by rename must be read under its new inode.
  std::optional<std::string> ReadIfExists();
  std::string Read();
  const std::string& path() const { return path_; }

 private:
  // Reads from offset 0 to the end (pread, so the descriptor's own offset does not matter).
  std::string ReadAll(int fd);

  std::mutex mu_;  // two scrapes at once share the descriptor
  std::string path_;
  std::size_t max_bytes_;
  int fd_ = -1;
  std::size_t last_size_ = 0;  // a buffer of this size usually takes the file in one read
};

}  // namespace xw
