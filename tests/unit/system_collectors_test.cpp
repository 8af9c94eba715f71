// filefd, entropy, vmstat, timex, os, selinux and interrupts against fixture trees (timex
// reads the running kernel: adjtimex has no file to point at).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "collect.h"
#include "web_config.h"

namespace xw::testing {
namespace {

TEST(FilefdCollector, AllocatedAndMaximum) {
  const auto f = Collect("filefd", FixturePaths());
  EXPECT_EQ(*Value(f, "node_filefd_allocated"), 1602);
  EXPECT_EQ(*Value(f, "node_filefd_maximum"), 2466167);
  EXPECT_EQ(FindFamily(f, "node_filefd_allocated")->help, "File descriptor statistics: allocated.");
}

TEST(EntropyCollector, AvailableAndPool) {
  const auto f = Collect("entropy", FixturePaths());
  EXPECT_EQ(*Value(f, "node_entropy_available_bits"), 256);
  EXPECT_EQ(*Value(f, "node_entropy_pool_size_bits"), 256);
}

TEST(VmstatCollector, DefaultFilterUntyped) {
  const auto f = Collect("vmstat", FixturePaths());
  EXPECT_EQ(*Value(f, "node_vmstat_pgfault"), 39962792);
  EXPECT_EQ(*Value(f, "node_vmstat_pgmajfault"), 3910);
  EXPECT_EQ(*Value(f, "node_vmstat_oom_kill"), 0);
  EXPECT_FALSE(Value(f, "node_vmstat_nr_free_pages"));
  EXPECT_EQ(FindFamily(f, "node_vmstat_pgfault")->help, "/proc/vmstat information field pgfault.");
  EXPECT_EQ(FindFamily(f, "node_vmstat_pgfault")->type, prometheus::MetricType::Untyped);
}

TEST(VmstatCollector, FieldsFlag) {
  const auto f = Collect("vmstat", FixturePaths(), {{"collector.vmstat.fields", "^nr_free_pages$"}});
  EXPECT_EQ(*Value(f, "node_vmstat_nr_free_pages"), 1030974);
  EXPECT_EQ(f.size(), 1u);
  EXPECT_THROW(MakeCollector("vmstat", FixturePaths(), {{"collector.vmstat.fields", "[a-"}}), ConfigError);
}

TEST(TimexCollector, AllFamiliesFromTheKernel) {
  const auto f = Collect("timex", FixturePaths());
  EXPECT_EQ(f.size(), 17u);
  const double sync = *Value(f, "node_timex_sync_status");
  EXPECT_TRUE(sync == 0 || sync == 1);
  EXPECT_GT(*Value(f, "node_timex_tick_seconds"), 0);
  EXPECT_GT(*Value(f, "node_timex_frequency_adjustment_ratio"), 0.99);
  EXPECT_EQ(FindFamily(f, "node_timex_pps_error_total")->type, prometheus::MetricType::Counter);
}

TEST(OsCollector, InfoAndVersionFromRootfs) {
  const auto f = Collect("os", FixturePaths());
  EXPECT_EQ(*Value(f, "node_os_info",
                   {{"build_id", ""},
                    {"id", "debian"},
                    {"id_like", ""},
                    {"image_id", ""},
                    {"image_version", ""},
                    {"name", "Debian GNU/Linux"},
                    {"pretty_name", "Debian GNU/Linux 12 (bookworm)"},
                    {"variant", ""},
                    {"variant_id", ""},
                    {"version", "12 (bookworm)"},
                    {"version_codename", "bookworm"},
                    {"version_id", "12"}}),
            1);
  EXPECT_EQ(*Value(f, "node_os_version", {{"id", "debian"}, {"id_like", ""}, {"name", "Debian GNU/Linux"}}), 12);
}

TEST(OsCollector, NoOsReleaseIsNoData) {
  exporter::Paths p = FixturePaths();
  p.rootfs = FixtureDir() + "/empty";
  EXPECT_THROW(Collect("os", p), exporter::NoDataError);
}

// The parse is cached on the file's identity (node_exporter keys on the mtime): a changed file
// is read again, an untouched one is not.
TEST(OsCollector, ReparsedWhenTheFileChanges) {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("xw-os-" + std::to_string(::getpid()));
  fs::create_directories(root / "etc");
  const auto write = [&](const std::string& version_id, std::int64_t mtime) {
    std::ofstream(root / "etc/os-release", std::ios::trunc) << "ID=debian\nVERSION_ID=\"" << version_id << "\"\n";
    const timespec times[2] = {{mtime, 0}, {mtime, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, (root / "etc/os-release").c_str(), times, 0), 0);
  };
  exporter::Paths p = FixturePaths();
  p.rootfs = root.string();
  const auto os = MakeCollector("os", p);
  const std::map<std::string, std::string> version_labels{{"id", "debian"}, {"id_like", ""}, {"name", ""}};
  write("12", 1'700'000'000);
  EXPECT_EQ(*Value(os->Collect(), "node_os_version", version_labels), 12);
  write("13", 1'700'000'100);
  EXPECT_EQ(*Value(os->Collect(), "node_os_version", version_labels), 13);
  write("14", 1'700'000'100);  // same mtime and size: the cached parse stands, as in node_exporter
  EXPECT_EQ(*Value(os->Collect(), "node_os_version", version_labels), 13);
  fs::remove_all(root);
}

TEST(SelinuxCollector, DisabledWithoutSelinuxfs) {
  const auto f = Collect("selinux", FixturePaths());
  EXPECT_EQ(*Value(f, "node_selinux_enabled"), 0);
  EXPECT_EQ(f.size(), 1u);
}

TEST(SelinuxCollector, ModesWhenEnforcing) {
  exporter::Paths p = FixturePaths();
  p.sysfs = FixtureDir() + "/selinux/sys";
  p.rootfs = FixtureDir() + "/selinux";
  const auto f = Collect("selinux", p);
  EXPECT_EQ(*Value(f, "node_selinux_enabled"), 1);
  EXPECT_EQ(*Value(f, "node_selinux_current_mode"), 0);  // permissive right now
  EXPECT_EQ(*Value(f, "node_selinux_config_mode"), 1);   // enforcing after reboot
}

TEST(InterruptsCollector, NumberedAndNamedInterrupts) {
  const auto f = Collect("interrupts", FixturePaths());
  EXPECT_EQ(*Value(f, "node_interrupts_total",
                   {{"cpu", "1"}, {"type", "26"}, {"info", "IO-APIC"}, {"devices", "4-edge ttyS0"}}),
            8);
  EXPECT_EQ(*Value(f, "node_interrupts_total",
                   {{"cpu", "0"}, {"type", "LOC"}, {"info", "Local timer interrupts"}, {"devices", ""}}),
            666821);
  // ERR has one total, not one per CPU: skipped as node_exporter does.
  for (const auto& m : FindFamily(f, "node_interrupts_total")->metric) {
    for (const auto& l : m.label) EXPECT_FALSE(l.name == "type" && l.value == "ERR");
  }
}

}  // namespace
}  // namespace xw::testing
