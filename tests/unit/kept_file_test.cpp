// KeptFile: procfs files read again from offset 0 give fresh content; other files are
// reopened each time, so a fixture replaced by rename is seen; errors name the file.
#include "kept_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "text_file.h"

namespace xw::testing {
namespace {

// Field 20 of /proc/self/stat (num_threads), counted after the ')' that ends comm.
int Threads(const std::string& stat) {
  const auto f = Fields(std::string_view(stat).substr(stat.rfind(')') + 2));
  return std::stoi(std::string(f.at(17)));
}

TEST(KeptFile, ProcfsFileIsFreshOnEveryRead) {
  KeptFile stat("/proc/self/stat");
  const int before = Threads(stat.Read());
  std::promise<void> started, finish;
  std::thread t([&] {
    started.set_value();
    finish.get_future().wait();
  });
  started.get_future().wait();
  EXPECT_EQ(Threads(stat.Read()), before + 1);
  finish.set_value();
  t.join();
  // join() returns when the kernel clears the thread's tid, which is before it leaves the
  // thread group's count (__exit_signal): give the count a moment to follow, bounded.
  int after = Threads(stat.Read());
  for (int i = 0; i < 400 && after != before; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    after = Threads(stat.Read());
  }
  EXPECT_EQ(after, before);
}

TEST(KeptFile, ReadsProcfsFilesLongerThanAPage) {
  // /proc/crypto is a seq_file of many records: each read returns about a page.
  const std::string whole = ReadFile("/proc/crypto");
  if (whole.size() < 8192) GTEST_SKIP() << "/proc/crypto is only " << whole.size() << " bytes here";
  KeptFile crypto("/proc/crypto");
  EXPECT_EQ(crypto.Read(), whole);
  EXPECT_EQ(crypto.Read(), whole);
}

// Files printed in one piece are read until the first short read. Their content must come out
// whole all the same, also past a page (/proc/self/limits is fixed; net/netstat's values move,
// so its lines are compared by their names) and in a buffer sized for less than the content.
TEST(KeptFile, InOnePieceReadsTheWholeFile) {
  KeptFile limits("/proc/self/limits", KeptFile::Printed::kInOnePiece);
  EXPECT_EQ(limits.Read(), ReadFile("/proc/self/limits"));
  EXPECT_EQ(limits.Read(), ReadFile("/proc/self/limits"));
  auto shape = [](const std::string& text) {  // each line's name and number of fields
    std::vector<std::pair<std::string, std::size_t>> out;
    for (auto line : Lines(text)) out.emplace_back(Fields(line).at(0), Fields(line).size());
    return out;
  };
  KeptFile netstat("/proc/net/netstat", KeptFile::Printed::kInOnePiece);
  const std::string whole = ReadFile("/proc/net/netstat");
  EXPECT_EQ(shape(netstat.Read()), shape(whole));
  EXPECT_EQ(shape(netstat.Read()), shape(whole));
  KeptFile poolsize("/proc/sys/kernel/random/poolsize", KeptFile::Printed::kInOnePiece);
  EXPECT_EQ(poolsize.Read(), ReadFile("/proc/sys/kernel/random/poolsize"));
}

TEST(KeptFile, RegularFileReplacedByRenameIsReadAnew) {
  const auto dir = std::filesystem::temp_directory_path() / ("xw-kept-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "loadavg";
  std::ofstream(path) << "1.00 2.00 3.00 1/100 42\n";
  KeptFile file(path.string());
  EXPECT_EQ(file.Read(), "1.00 2.00 3.00 1/100 42\n");
  std::ofstream(dir / "next") << "4.00 5.00 6.00 1/100 43\n";
  std::filesystem::rename(dir / "next", path);
  EXPECT_EQ(file.Read(), "4.00 5.00 6.00 1/100 43\n");
  std::filesystem::remove(path);
  EXPECT_FALSE(file.ReadIfExists().has_value());
  try {
    file.Read();
    ADD_FAILURE() << "no error for a missing file";
  } catch (const ParseError& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

TEST(KeptFile, SizeLimitIsAnErrorNamingTheFile) {
  KeptFile crypto("/proc/crypto", 100);
  try {
    crypto.Read();
    ADD_FAILURE() << "no error for a file over the limit";
  } catch (const ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("/proc/crypto: larger than 100 bytes"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace xw::testing
