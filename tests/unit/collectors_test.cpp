// Each node collector against a fixture tree: names, labels and values as node_exporter's.
#include <gtest/gtest.h>
#include <unistd.h>

#include "collect.h"
#include "web_config.h"

namespace xw::testing {
namespace {

const double kHz = static_cast<double>(sysconf(_SC_CLK_TCK));

TEST(CpuCollector, SecondsPerCpuAndMode) {
  const auto f = Collect("cpu", FixturePaths());
  EXPECT_DOUBLE_EQ(*Value(f, "node_cpu_seconds_total", {{"cpu", "0"}, {"mode", "user"}}), 2000 / kHz);
  EXPECT_DOUBLE_EQ(*Value(f, "node_cpu_seconds_total", {{"cpu", "1"}, {"mode", "steal"}}), 4 / kHz);
  EXPECT_DOUBLE_EQ(*Value(f, "node_cpu_seconds_total", {{"cpu", "0"}, {"mode", "softirq"}}), 60 / kHz);
  EXPECT_DOUBLE_EQ(*Value(f, "node_cpu_guest_seconds_total", {{"cpu", "0"}, {"mode", "user"}}), 11 / kHz);
  EXPECT_DOUBLE_EQ(*Value(f, "node_cpu_guest_seconds_total", {{"cpu", "0"}, {"mode", "nice"}}), 2 / kHz);
  // node_exporter exports per-cpu lines only, not the aggregate.
  EXPECT_EQ(FindFamily(f, "node_cpu_seconds_total")->metric.size(), 16u);
}

TEST(StatCollector, CountersFromProcStat) {
  const auto f = Collect("stat", FixturePaths());
  EXPECT_EQ(*Value(f, "node_boot_time_seconds"), 1700000000);
  EXPECT_EQ(*Value(f, "node_context_switches_total"), 987654);
  EXPECT_EQ(*Value(f, "node_forks_total"), 4242);
  EXPECT_EQ(*Value(f, "node_intr_total"), 123456);
  EXPECT_EQ(*Value(f, "node_procs_running"), 3);
  EXPECT_EQ(*Value(f, "node_procs_blocked"), 1);
}

TEST(LoadavgCollector, ThreeAverages) {
  const auto f = Collect("loadavg", FixturePaths());
  EXPECT_DOUBLE_EQ(*Value(f, "node_load1"), 0.25);
  EXPECT_DOUBLE_EQ(*Value(f, "node_load5"), 0.5);
  EXPECT_DOUBLE_EQ(*Value(f, "node_load15"), 1.75);
}

TEST(MeminfoCollector, NamesAndUnitsAsNodeExporter) {
  const auto f = Collect("meminfo", FixturePaths());
  EXPECT_EQ(*Value(f, "node_memory_MemTotal_bytes"), 16384000.0 * 1024);
  EXPECT_EQ(*Value(f, "node_memory_Active_anon_bytes"), 100000.0 * 1024);
  EXPECT_EQ(*Value(f, "node_memory_HugePages_Total"), 4);  // no unit, no _bytes
  EXPECT_EQ(*Value(f, "node_memory_Hugepagesize_bytes"), 2048.0 * 1024);
  EXPECT_EQ(FindFamily(f, "node_memory_MemTotal_bytes")->help, "Memory information field MemTotal_bytes.");
}

TEST(PressureCollector, SomeAndFullTotals) {
  const auto f = Collect("pressure", FixturePaths());
  EXPECT_DOUBLE_EQ(*Value(f, "node_pressure_cpu_waiting_seconds_total"), 10.17884);
  EXPECT_DOUBLE_EQ(*Value(f, "node_pressure_io_waiting_seconds_total"), 4.856156);
  EXPECT_DOUBLE_EQ(*Value(f, "node_pressure_io_stalled_seconds_total"), 4.481354);
  EXPECT_DOUBLE_EQ(*Value(f, "node_pressure_memory_waiting_seconds_total"), 2);
  EXPECT_DOUBLE_EQ(*Value(f, "node_pressure_memory_stalled_seconds_total"), 1);
}

TEST(DiskstatsCollector, ColumnsScaledAndDevicesFiltered) {
  const auto f = Collect("diskstats", FixturePaths());
  const std::map<std::string, std::string> vda{{"device", "vda"}};
  EXPECT_EQ(*Value(f, "node_disk_reads_completed_total", vda), 1000);
  EXPECT_EQ(*Value(f, "node_disk_read_bytes_total", vda), 40000.0 * 512);
  EXPECT_DOUBLE_EQ(*Value(f, "node_disk_read_time_seconds_total", vda), 0.5);
  EXPECT_EQ(*Value(f, "node_disk_written_bytes_total", vda), 80000.0 * 512);
  EXPECT_EQ(*Value(f, "node_disk_io_now", vda), 2);
  EXPECT_DOUBLE_EQ(*Value(f, "node_disk_io_time_weighted_seconds_total", vda), 4);
  EXPECT_EQ(*Value(f, "node_disk_flush_requests_total", vda), 60);
  // vda1 and loop0 match the default exclude regexp.
  EXPECT_FALSE(Value(f, "node_disk_reads_completed_total", {{"device", "vda1"}}));
  EXPECT_FALSE(Value(f, "node_disk_reads_completed_total", {{"device", "loop0"}}));
  // dm-0 comes from an old kernel with no discard/flush columns.
  EXPECT_EQ(*Value(f, "node_disk_reads_completed_total", {{"device", "dm-0"}}), 300);
  EXPECT_FALSE(Value(f, "node_disk_discards_completed_total", {{"device", "dm-0"}}));
  EXPECT_EQ(*Value(f, "node_disk_info",
                   {{"device", "vda"},
                    {"major", "254"},
                    {"minor", "0"},
                    {"model", "QEMU_HARDDISK"},
                    {"path", "pci-0000:00:04.0"},
                    {"revision", "2.5+"},
                    {"serial", "abc123"},
                    {"wwn", "0x5000"}}),
            1);
}

TEST(NetdevCollector, CountersPerDeviceLoExcluded) {
  const auto f = Collect("netdev", FixturePaths());
  const std::map<std::string, std::string> eth0{{"device", "eth0"}};
  EXPECT_EQ(*Value(f, "node_network_receive_bytes_total", eth0), 97770501);
  EXPECT_EQ(*Value(f, "node_network_receive_frame_total", eth0), 4);
  EXPECT_EQ(*Value(f, "node_network_transmit_colls_total", eth0), 10);
  EXPECT_EQ(*Value(f, "node_network_transmit_compressed_total", eth0), 12);
  EXPECT_EQ(*Value(f, "node_network_receive_nohandler_total", eth0), 3);
  EXPECT_FALSE(Value(f, "node_network_receive_bytes_total", {{"device", "lo"}}));
}

TEST(NetdevCollector, IncludeListReplacesExclude) {
  const auto f = Collect("netdev", FixturePaths(), {{"collector.netdev.device-include", "^lo$"}});
  EXPECT_EQ(*Value(f, "node_network_receive_packets_total", {{"device", "lo"}}), 104);
  EXPECT_FALSE(Value(f, "node_network_receive_packets_total", {{"device", "eth0"}}));
}

TEST(FilesystemCollector, MountsFilteredDedupedAndStatted) {
  const auto f = Collect("filesystem", FixturePaths());
  const std::map<std::string, std::string> root{{"device", "/dev/vda"}, {"fstype", "ext4"}, {"mountpoint", "/"}};
  // "/" is statted under --path.rootfs (the fixture dir, which exists): sizes are real.
  EXPECT_GT(*Value(f, "node_filesystem_size_bytes", root), 0);
  EXPECT_EQ(*Value(f, "node_filesystem_device_error", root), 0);
  EXPECT_EQ(*Value(f, "node_filesystem_readonly", root), 0);
  EXPECT_EQ(FindFamily(f, "node_filesystem_size_bytes")->metric.size(), 1u);  // duplicate "/" dropped
  // The octal-escaped mount point does not exist under the fixture root: device_error 1, no sizes.
  const std::map<std::string, std::string> srv{
      {"device", "/dev/vdb"}, {"fstype", "ext4"}, {"mountpoint", "/srv/with space"}};
  EXPECT_EQ(*Value(f, "node_filesystem_device_error", srv), 1);
  EXPECT_EQ(*Value(f, "node_filesystem_readonly", srv), 1);
  EXPECT_FALSE(Value(f, "node_filesystem_size_bytes", srv));
  // /proc, /dev/shm (mount point) and cgroup2 (fs type) are excluded.
  EXPECT_EQ(FindFamily(f, "node_filesystem_device_error")->metric.size(), 2u);
}

TEST(FilesystemCollector, RejectsBadFlags) {
  EXPECT_THROW(MakeCollector("filesystem", FixturePaths(), {{"collector.filesystem.mount-timeout", "-1"}}),
               ConfigError);
  EXPECT_THROW(MakeCollector("filesystem", FixturePaths(), {{"collector.filesystem.mount-points-exclude", "("}}),
               ConfigError);
}

TEST(TimeCollector, ClocksourcesFromSysfs) {
  const auto f = Collect("time", FixturePaths());
  EXPECT_EQ(*Value(f, "node_time_clocksource_current_info", {{"clocksource", "kvm-clock"}, {"device", "0"}}), 1);
  EXPECT_EQ(*Value(f, "node_time_clocksource_available_info", {{"clocksource", "acpi_pm"}, {"device", "0"}}), 1);
  EXPECT_GT(*Value(f, "node_time_seconds"), 1.7e9);
}

TEST(UnameCollector, OneInfoSeries) {
  const auto f = Collect("uname", FixturePaths());
  const auto* fam = FindFamily(f, "node_uname_info");
  ASSERT_NE(fam, nullptr);
  ASSERT_EQ(fam->metric.size(), 1u);
  EXPECT_EQ(fam->metric[0].label.size(), 6u);
}

}  // namespace
}  // namespace xw::testing
