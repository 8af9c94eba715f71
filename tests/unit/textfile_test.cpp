// The textfile collector: *.prom files parsed and merged, broken ones skipped with
// node_textfile_scrape_error 1, and the exposition rules it relies on.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>

#include "collect.h"
#include "exposition.h"
#include "text_format.h"

namespace xw::testing {
namespace {

std::vector<prometheus::MetricFamily> Textfile(const std::string& dir) {
  return Collect("textfile", FixturePaths(), {{"collector.textfile.directory", dir}});
}

TEST(TextfileCollector, ReadsPromFilesMergesFamiliesAndReportsMtimes) {
  const std::string dir = FixtureDir() + "/textfile/good";
  const auto f = Textfile(dir);
  EXPECT_EQ(*Value(f, "node_textfile_scrape_error"), 0);
  EXPECT_EQ(*Value(f, "xmppwatch_backup_last_success_timestamp_seconds"), 1.7954e9);
  EXPECT_EQ(*Value(f, "xmppwatch_backup_size_bytes", {{"database", "mysql"}, {"host", "xmpp1"}}), 1048576);
  // Padded with the label its sibling in the same file has, as node_exporter does.
  EXPECT_EQ(*Value(f, "xmppwatch_backup_size_bytes", {{"database", "ejabberd"}, {"host", ""}}), 52428800);
  EXPECT_EQ(FindFamily(f, "xmppwatch_backup_size_bytes")->help, "Size of the last backup.");
  // One family from two files, with node_exporter's default HELP naming both.
  const auto* role = FindFamily(f, "node_role");
  ASSERT_NE(role, nullptr);
  EXPECT_EQ(role->metric.size(), 2u);
  EXPECT_EQ(role->type, prometheus::MetricType::Untyped);
  EXPECT_EQ(role->help, "Metric read from " + dir + "/role.prom, " + dir + "/zz_more_roles.prom");
  // Histograms and summaries keep their shape.
  const auto* h = FindFamily(f, "job_duration_seconds");
  ASSERT_NE(h, nullptr);
  ASSERT_EQ(h->metric.size(), 1u);
  EXPECT_EQ(h->type, prometheus::MetricType::Histogram);
  EXPECT_EQ(h->metric[0].histogram.sample_count, 6u);
  EXPECT_EQ(h->metric[0].histogram.bucket.size(), 3u);
  EXPECT_EQ(h->metric[0].histogram.bucket[1].cumulative_count, 5u);
  const auto* s = FindFamily(f, "rpc_seconds");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->metric[0].summary.quantile.size(), 2u);
  EXPECT_EQ(s->metric[0].summary.sample_sum, 30);
  // mtimes of the files read, by full path; notes.txt is not a .prom file.
  struct stat sb {};
  ASSERT_EQ(stat((dir + "/backup.prom").c_str(), &sb), 0);
  EXPECT_EQ(*Value(f, "node_textfile_mtime_seconds", {{"file", dir + "/backup.prom"}}),
            static_cast<double>(sb.st_mtim.tv_sec));
  EXPECT_EQ(FindFamily(f, "node_textfile_mtime_seconds")->metric.size(), 3u);
  EXPECT_EQ(FindFamily(f, "not_read"), nullptr);
}

TEST(TextfileCollector, BrokenFilesAreSkippedAndFlagged) {
  const std::string dir = FixtureDir() + "/textfile/broken";
  const auto f = Textfile(dir);
  EXPECT_EQ(*Value(f, "node_textfile_scrape_error"), 1);
  const auto* shared = FindFamily(f, "shared_metric");
  ASSERT_NE(shared, nullptr);
  // a and f agree; d (TYPE counter), e (other HELP), g (a's series again) and h (le="ten")
  // are skipped whole.
  EXPECT_EQ(shared->metric.size(), 2u);
  EXPECT_EQ(*Value(f, "shared_metric", {{"file", "a"}}), 1);
  EXPECT_EQ(*Value(f, "shared_metric", {{"file", "f"}}), 4);
  EXPECT_EQ(shared->help, "Shared across files.");
  EXPECT_EQ(FindFamily(f, "from_d"), nullptr);
  EXPECT_EQ(FindFamily(f, "stamped_metric"), nullptr);
  EXPECT_EQ(FindFamily(f, "bad_hist"), nullptr);
  EXPECT_TRUE(Value(f, "node_textfile_mtime_seconds", {{"file", dir + "/a_ok.prom"}}));
  EXPECT_FALSE(Value(f, "node_textfile_mtime_seconds", {{"file", dir + "/b_syntax.prom"}}));
  EXPECT_EQ(FindFamily(f, "node_textfile_mtime_seconds")->metric.size(), 2u);
}

TEST(TextfileCollector, MissingDirectoryIsAScrapeErrorNotAFailure) {
  const auto f = Textfile(FixtureDir() + "/textfile/does-not-exist");
  EXPECT_EQ(*Value(f, "node_textfile_scrape_error"), 1);
  EXPECT_EQ(*Value(Textfile(""), "node_textfile_scrape_error"), 0);  // no directory configured
}

TEST(TextfileCollector, GlobOfDirectories) {
  const auto f = Textfile(FixtureDir() + "/textfile/goo*");
  EXPECT_EQ(*Value(f, "node_textfile_scrape_error"), 0);
  EXPECT_TRUE(Value(f, "node_role", {{"role", "db"}}));
}

TEST(ExpositionRules, WhatTheTextfileCollectorRejects) {
  for (const char* bad : {"# HELP a x\n# HELP a y\na 1\n", "a{x=\"\\q\"} 1\n", "# TYPE h histogram\nh_bucket 1\n",
                          "# TYPE s summary\ns 1\n", "# TYPE h histogram\nh 1\n"}) {
    EXPECT_THROW(ParseExposition(bad), ParseError) << bad;
  }
  const auto f = ParseExposition("a 1 1700000000000\nb 2\n");
  EXPECT_TRUE(f[0].samples[0].has_timestamp);
  EXPECT_FALSE(f[1].samples[0].has_timestamp);
}

// node_exporter 1.5 refuses a file whose label value is not UTF-8 whole ("invalid label
// value") and sets node_textfile_scrape_error 1. Here the error is reported the same way, but
// only the bad series is lost: the writer leaves it out and counts it (text_format.h).
TEST(TextfileCollector, InvalidUtf8CostsOnlyItsSeries) {
  const std::string dir = FixtureDir() + "/textfile/utf8";
  const auto f = Textfile(dir);
  EXPECT_EQ(*Value(f, "node_textfile_scrape_error"), 1);
  EXPECT_EQ(*Value(f, "jobs_done", {{"worker", "alpha"}}), 3);
  EXPECT_EQ(*Value(f, "jobs_done",
                   {{"worker",
                     "gr\xC3\xBC\xC3\x9F"
                     "e"}}),
            5);
  EXPECT_EQ(*Value(f, "other_metric"), 7);
  EXPECT_EQ(*Value(f, "clean_metric"), 1);
  EXPECT_TRUE(Value(f, "node_textfile_mtime_seconds", {{"file", dir + "/bad_bytes.prom"}}));
  TextFormatStats stats;
  const std::string text = TextFormat(f, &stats);
  EXPECT_EQ(stats.invalid_utf8_series, 1u);
  EXPECT_TRUE(IsValidUtf8(text));
  const auto parsed = ParseExposition(text);
  const auto jobs = std::find_if(parsed.begin(), parsed.end(), [](const auto& p) { return p.name == "jobs_done"; });
  ASSERT_NE(jobs, parsed.end());
  EXPECT_EQ(jobs->samples.size(), 2u);
  EXPECT_EQ(jobs->help, "Jobs done by worker (\xEF\xBF\xBD raw byte in HELP).");
}

// A FIFO named *.prom (a writer that forgot to write a file and rename it) would block open(2)
// until some process opened it for writing: the scrape would hang. It is skipped as an error.
TEST(TextfileCollector, FifoAndOtherNonRegularFilesDoNotBlock) {
  char tmpl[] = "/tmp/xw-textfile-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  std::ofstream(dir + "/good.prom") << "good_metric 1\n";
  ASSERT_EQ(::mkfifo((dir + "/pipe.prom").c_str(), 0600), 0);
  std::filesystem::create_directory(dir + "/subdir.prom");
  auto scrape = std::async(std::launch::async, [&] { return Textfile(dir); });
  if (scrape.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    // Unblock the reader (O_RDWR on a FIFO never blocks) so the test can end, then fail.
    const int fd = ::open((dir + "/pipe.prom").c_str(), O_RDWR);
    ADD_FAILURE() << "a FIFO in the textfile directory blocked the scrape";
    scrape.wait();
    ::close(fd);
  } else {
    const auto f = scrape.get();
    EXPECT_EQ(*Value(f, "node_textfile_scrape_error"), 1);
    EXPECT_EQ(*Value(f, "good_metric"), 1);
    EXPECT_FALSE(Value(f, "node_textfile_mtime_seconds", {{"file", dir + "/pipe.prom"}}));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace xw::testing
