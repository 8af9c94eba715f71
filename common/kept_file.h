// A /proc or /sys file held open across scrapes and read again from offset 0. procfs and
// sysfs generate a file's content afresh on every read from the start, so the result is the
// same as opening it anew, without the path lookup, open and close each scrape (a third of
// the exporter's system calls per scrape with node_exporter's default collectors).
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>

#include "unique_fd.h"

namespace xw {

class KeptFile {
 public:
  // How the kernel prints the file, which tells when a read has reached its end.
  enum class Printed {
    // A seq_file of records (net/dev, diskstats, vmstat, mounts): a read hands out about a
    // page of them, so only a read that returns nothing is the end.
    kRecordByRecord,
    // In one piece: a single_open procfs file (meminfo, stat, loadavg, net/snmp, pressure/*,
    // /proc/self/stat) or a /proc/sys value. A read returns less than asked for only at the
    // end, which saves the read that would return nothing (a system call, about 1.5 us on a
    // VM). Sysfs attributes are printed in one piece too and are read this way whatever is
    // given here.
    kInOnePiece,
  };

  explicit KeptFile(std::string path, std::size_t max_bytes = 16u << 20)
      : KeptFile(std::move(path), Printed::kRecordByRecord, max_bytes) {}
  KeptFile(std::string path, Printed printed, std::size_t max_bytes = 16u << 20);
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
  std::string ReadAll(int fd, bool in_one_piece);

  std::mutex mu_;  // two scrapes at once share the descriptor
  std::string path_;
  std::size_t max_bytes_;
  Printed printed_;
  UniqueFd fd_;
  bool fd_in_one_piece_ = false;  // the kept descriptor's file is read as kInOnePiece
  std::size_t last_size_ = 0;     // a buffer of this size usually takes the file in one read
};

}  // namespace xw
