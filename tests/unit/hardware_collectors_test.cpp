// netclass, hwmon, thermal_zone, cpufreq, schedstat, edac and mdadm on fixture trees (and
// netclass's rtnetlink path on the live /sys): netclass copied from a real VM, the rest
// hand-made in the kernel's formats (the VM has no sensors, cpufreq, schedstats, EDAC or md
// arrays).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "collect.h"
#include "procfs/rtnl_links.h"
#include "text_file.h"
#include "text_format.h"
#include "web_config.h"

namespace xw::testing {
namespace {

TEST(NetclassCollector, PropertiesPerDevice) {
  const auto f = Collect("netclass", FixturePaths());
  const std::map<std::string, std::string> eth0{{"device", "eth0"}}, ifb0{{"device", "ifb0"}};
  EXPECT_EQ(*Value(f, "node_network_up", eth0), 1);
  EXPECT_EQ(*Value(f, "node_network_up", ifb0), 0);
  EXPECT_EQ(*Value(f, "node_network_flags", eth0), 0x1003);  // sysfs prints it in hex
  EXPECT_EQ(*Value(f, "node_network_mtu_bytes", eth0), 1400);
  EXPECT_EQ(*Value(f, "node_network_protocol_type", {{"device", "lo"}}), 772);
  EXPECT_EQ(*Value(f, "node_network_speed_bytes", eth0), -125000);  // -1 Mb/s, exported as node_exporter 1.5 does
  EXPECT_EQ(*Value(f, "node_network_carrier_changes_total", eth0), 2);
  EXPECT_FALSE(Value(f, "node_network_carrier", ifb0));  // EINVAL on a down link: absent
  EXPECT_EQ(*Value(f, "node_network_info",
                   {{"device", "eth0"},
                    {"address", "02:fc:00:00:00:01"},
                    {"broadcast", "ff:ff:ff:ff:ff:ff"},
                    {"duplex", "unknown"},
                    {"operstate", "up"},
                    {"ifalias", ""}}),
            1);
  EXPECT_FALSE(Value(f, "node_network_up", {{"device", "bonding_masters"}}));
  EXPECT_EQ(FindFamily(f, "node_network_carrier_changes_total")->type, prometheus::MetricType::Counter);
  EXPECT_EQ(FindFamily(f, "node_network_mtu_bytes")->help, "Network device property: mtu_bytes");
}

TEST(NetclassCollector, FlagsIgnoreDevicesAndInvalidSpeed) {
  const auto f =
      Collect("netclass", FixturePaths(),
              {{"collector.netclass.ignored-devices", "^ifb"}, {"collector.netclass.ignore-invalid-speed", "true"}});
  EXPECT_FALSE(Value(f, "node_network_up", {{"device", "ifb0"}}));
  EXPECT_FALSE(Value(f, "node_network_speed_bytes", {{"device", "eth0"}}));
  EXPECT_THROW(MakeCollector("netclass", FixturePaths(), {{"collector.netclass.ignore-invalid-speed", "yes"}}),
               ConfigError);
}

// The collector keeps attribute files open between scrapes: values must still be fresh, and
// devices that go away or are recreated under the same name must be noticed.
TEST(NetclassCollector, KeptFilesStayFreshAndFollowDevices) {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("netclass_test_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "class");
  fs::copy(FixtureDir() + "/sys/class/net", root / "class/net", fs::copy_options::recursive);
  exporter::Paths p = FixturePaths();
  p.sysfs = root.string();
  const auto collector = MakeCollector("netclass", p);
  auto write = [](const fs::path& file, const std::string& text) {
    std::ofstream(file, std::ios::trunc) << text << "\n";
  };
  EXPECT_EQ(*Value(collector->Collect(), "node_network_mtu_bytes", {{"device", "eth0"}}), 1400);
  write(root / "class/net/eth0/mtu", "9000");
  EXPECT_EQ(*Value(collector->Collect(), "node_network_mtu_bytes", {{"device", "eth0"}}), 9000);
  fs::remove_all(root / "class/net/ifb0");
  EXPECT_FALSE(Value(collector->Collect(), "node_network_up", {{"device", "ifb0"}}));
  // Recreated: a new directory (new inode) with a different MTU.
  fs::rename(root / "class/net/eth0", root / "class/net/eth0.old");
  fs::copy(root / "class/net/eth0.old", root / "class/net/eth0", fs::copy_options::recursive);
  fs::remove_all(root / "class/net/eth0.old");
  write(root / "class/net/eth0/mtu", "1280");
  const auto f = collector->Collect();
  EXPECT_EQ(*Value(f, "node_network_mtu_bytes", {{"device", "eth0"}}), 1280);
  EXPECT_EQ(*Value(f, "node_network_mtu_bytes", {{"device", "lo"}}), 65536);
  fs::remove_all(root);
}

// On this machine's own /sys: the rtnetlink dump must give every series the sysfs files give,
// with the same values (both read the same kernel a moment apart; nothing here changes links).
TEST(NetclassCollector, RtnetlinkDumpGivesWhatSysfsGives) {
  exporter::Paths live;
  if (!std::filesystem::exists(live.Sys("class/net/lo"))) GTEST_SKIP() << "no /sys/class/net here";
  auto text = [&](const std::string& sysfs_only) {
    std::string out;
    AppendTextFormat(out, Collect("netclass", live, {{"collector.netclass.sysfs-only", sysfs_only}}));
    return out;
  };
  const std::string from_dump = text("false");
  EXPECT_NE(from_dump.find("node_network_mtu_bytes{device=\"lo\"}"), std::string::npos) << from_dump;
  EXPECT_NE(from_dump.find("node_network_iface_link{device=\"lo\"}"), std::string::npos) << from_dump;
  EXPECT_EQ(from_dump, text("true"));
  EXPECT_THROW(MakeCollector("netclass", live, {{"collector.netclass.sysfs-only", "yes"}}), ConfigError);
}

TEST(NetclassCollector, HardwareAddressesFormattedAsSysfs) {
  const unsigned char mac[] = {0x02, 0xfc, 0x00, 0x0a, 0xbc, 0xff};
  EXPECT_EQ(exporter::FormatHardwareAddress(mac, sizeof mac), "02:fc:00:0a:bc:ff");
  EXPECT_EQ(exporter::FormatHardwareAddress(mac, 0), "");
}

TEST(HwmonCollector, SensorsNamedAndScaledAsNodeExporter) {
  const auto f = Collect("hwmon", FixturePaths());
  const std::map<std::string, std::string> t1{{"chip", "coretemp"}, {"sensor", "temp1"}};
  EXPECT_DOUBLE_EQ(*Value(f, "node_hwmon_temp_celsius", t1), 45);
  EXPECT_DOUBLE_EQ(*Value(f, "node_hwmon_temp_crit_celsius", t1), 100);
  EXPECT_EQ(*Value(f, "node_hwmon_temp_crit_alarm_celsius", t1), 0);
  EXPECT_EQ(
      *Value(f, "node_hwmon_sensor_label", {{"chip", "coretemp"}, {"sensor", "temp1"}, {"label", "Package id 0"}}), 1);
  EXPECT_EQ(*Value(f, "node_hwmon_chip_names", {{"chip", "coretemp"}, {"chip_name", "coretemp"}}), 1);
  EXPECT_EQ(*Value(f, "node_hwmon_beep_enabled", {{"chip", "coretemp"}, {"sensor", "beep_enable0"}}), 1);
  EXPECT_DOUBLE_EQ(
      *Value(f, "node_hwmon_update_interval_seconds", {{"chip", "coretemp"}, {"sensor", "update_interval0"}}), 2);
  // The second chip is named after its device link, and reads the device directory too.
  const std::string chip = "platform_nct6775_656";
  EXPECT_EQ(*Value(f, "node_hwmon_chip_names", {{"chip", chip}, {"chip_name", "nct6779"}}), 1);
  EXPECT_EQ(*Value(f, "node_hwmon_fan_rpm", {{"chip", chip}, {"sensor", "fan1"}}), 1200);
  EXPECT_EQ(*Value(f, "node_hwmon_fan_min_rpm", {{"chip", chip}, {"sensor", "fan1"}}), 300);
  EXPECT_EQ(*Value(f, "node_hwmon_fan_alarm", {{"chip", chip}, {"sensor", "fan1"}}), 0);
  EXPECT_DOUBLE_EQ(*Value(f, "node_hwmon_in_volts", {{"chip", chip}, {"sensor", "in0"}}), 1.104);
  EXPECT_DOUBLE_EQ(*Value(f, "node_hwmon_power_average_watt", {{"chip", chip}, {"sensor", "power1"}}), 15.5);
  EXPECT_DOUBLE_EQ(*Value(f, "node_hwmon_power_average_interval_seconds", {{"chip", chip}, {"sensor", "power1"}}), 1);
  EXPECT_DOUBLE_EQ(*Value(f, "node_hwmon_energy_joule_total", {{"chip", chip}, {"sensor", "energy1"}}), 123.456789);
  EXPECT_DOUBLE_EQ(*Value(f, "node_hwmon_curr_amps", {{"chip", chip}, {"sensor", "curr1"}}), 1.5);
  EXPECT_DOUBLE_EQ(*Value(f, "node_hwmon_humidity", {{"chip", chip}, {"sensor", "humidity1"}}), 0.455);
  EXPECT_EQ(*Value(f, "node_hwmon_pwm", {{"chip", chip}, {"sensor", "pwm1"}}), 128);
  EXPECT_EQ(*Value(f, "node_hwmon_pwm_enable", {{"chip", chip}, {"sensor", "pwm1"}}), 2);
  EXPECT_EQ(*Value(f, "node_hwmon_intrusion_alarm", {{"chip", chip}, {"sensor", "intrusion0"}}), 1);
  EXPECT_EQ(*Value(f, "node_hwmon_temp_type", {{"chip", chip}, {"sensor", "temp1"}}), 4);
  EXPECT_EQ(*Value(f, "node_hwmon_temp_beep_enabled", {{"chip", chip}, {"sensor", "temp1"}}), 0);
  EXPECT_EQ(FindFamily(f, "node_hwmon_energy_joule_total")->type, prometheus::MetricType::Counter);
  EXPECT_EQ(FindFamily(f, "node_hwmon_temp_celsius")->help, "Hardware monitor for temperature (input)");
}

TEST(HwmonCollector, NoHwmonClassIsNoData) {
  exporter::Paths p = FixturePaths();
  p.sysfs = FixtureDir() + "/empty";
  EXPECT_THROW(Collect("hwmon", p), exporter::NoDataError);
  EXPECT_EQ(MakeCollector("hwmon", p)->NoSource(), p.sysfs + "/class/hwmon does not exist");
  EXPECT_EQ(MakeCollector("hwmon", FixturePaths())->NoSource(), "");
}

TEST(ThermalZoneCollector, ZonesAndCoolingDevices) {
  const auto f = Collect("thermal_zone", FixturePaths());
  EXPECT_DOUBLE_EQ(*Value(f, "node_thermal_zone_temp", {{"zone", "0"}, {"type", "x86_pkg_temp"}}), 42);
  EXPECT_EQ(*Value(f, "node_cooling_device_cur_state", {{"name", "0"}, {"type", "Processor"}}), 1);
  EXPECT_EQ(*Value(f, "node_cooling_device_max_state", {{"name", "0"}, {"type", "Processor"}}), 3);
}

TEST(CpufreqCollector, HertzPerCpuWithCpufreq) {
  const auto f = Collect("cpufreq", FixturePaths());
  EXPECT_EQ(*Value(f, "node_cpu_frequency_hertz", {{"cpu", "0"}}), 2.5e9);
  EXPECT_EQ(*Value(f, "node_cpu_frequency_max_hertz", {{"cpu", "0"}}), 3.4e9);
  EXPECT_EQ(*Value(f, "node_cpu_scaling_frequency_hertz", {{"cpu", "10"}}), 1800010000.0);
  EXPECT_EQ(*Value(f, "node_cpu_scaling_frequency_min_hertz", {{"cpu", "10"}}), 8e8);
  EXPECT_FALSE(Value(f, "node_cpu_frequency_hertz", {{"cpu", "10"}}));         // root-only file absent
  EXPECT_FALSE(Value(f, "node_cpu_scaling_frequency_hertz", {{"cpu", "1"}}));  // no cpufreq dir
}

TEST(SchedstatCollector, SecondsAndTimeslicesPerCpu) {
  const auto f = Collect("schedstat", FixturePaths());
  EXPECT_DOUBLE_EQ(*Value(f, "node_schedstat_running_seconds_total", {{"cpu", "0"}}), 2045936.778163039);
  EXPECT_DOUBLE_EQ(*Value(f, "node_schedstat_waiting_seconds_total", {{"cpu", "1"}}), 337931.418426493);
  EXPECT_EQ(*Value(f, "node_schedstat_timeslices_total", {{"cpu", "1"}}), 4626425113.0);
  EXPECT_EQ(FindFamily(f, "node_schedstat_timeslices_total")->metric.size(), 2u);
}

TEST(SchedstatCollector, NoFileIsNoData) {
  exporter::Paths p = FixturePaths();
  p.procfs = FixtureDir() + "/empty";
  EXPECT_THROW(Collect("schedstat", p), exporter::NoDataError);
  EXPECT_EQ(MakeCollector("schedstat", p)->NoSource(), p.procfs + "/schedstat does not exist");
  EXPECT_EQ(MakeCollector("schedstat", FixturePaths())->NoSource(), "");
}

TEST(EdacCollector, ControllerAndCsrowCounts) {
  const auto f = Collect("edac", FixturePaths());
  EXPECT_EQ(*Value(f, "node_edac_correctable_errors_total", {{"controller", "0"}}), 5);
  EXPECT_EQ(*Value(f, "node_edac_uncorrectable_errors_total", {{"controller", "0"}}), 2);
  EXPECT_EQ(*Value(f, "node_edac_csrow_correctable_errors_total", {{"controller", "0"}, {"csrow", "unknown"}}), 1);
  EXPECT_EQ(*Value(f, "node_edac_csrow_correctable_errors_total", {{"controller", "0"}, {"csrow", "0"}}), 3);
  EXPECT_EQ(*Value(f, "node_edac_csrow_uncorrectable_errors_total", {{"controller", "0"}, {"csrow", "1"}}), 1);
}

TEST(EdacCollector, NoControllersIsSuccessWithNothing) {
  exporter::Paths p = FixturePaths();
  p.sysfs = FixtureDir() + "/empty";
  EXPECT_TRUE(Collect("edac", p).empty());
  p.sysfs = FixtureDir() + "/broken/sys";
  EXPECT_THROW(Collect("edac", p), ParseError);
}

TEST(MdadmCollector, NoMdstatIsNoData) {
  exporter::Paths p = FixturePaths();
  p.procfs = FixtureDir() + "/empty";
  EXPECT_THROW(Collect("mdadm", p), exporter::NoDataError);
  EXPECT_EQ(MakeCollector("mdadm", p)->NoSource(), p.procfs + "/mdstat does not exist");
  EXPECT_EQ(MakeCollector("mdadm", FixturePaths())->NoSource(), "");
}

TEST(MdadmCollector, StatesDisksAndSync) {
  const auto f = Collect("mdadm", FixturePaths());
  auto v = [&](const char* name, const char* dev, const char* state = nullptr) {
    std::map<std::string, std::string> l{{"device", dev}};
    if (state) l["state"] = state;
    return Value(f, name, l).value_or(-1);
  };
  EXPECT_EQ(v("node_md_disks_required", "md3"), 8);
  EXPECT_EQ(v("node_md_disks", "md3", "active"), 8);
  EXPECT_EQ(v("node_md_state", "md3", "active"), 1);
  EXPECT_EQ(v("node_md_disks", "md127", "failed"), 1);
  EXPECT_EQ(v("node_md_disks", "md127", "active"), 1);
  EXPECT_EQ(v("node_md_disks", "md0", "spare"), 1);
  EXPECT_EQ(v("node_md_state", "md4", "inactive"), 1);
  EXPECT_EQ(v("node_md_disks_required", "md4"), 0);
  EXPECT_EQ(v("node_md_state", "md6", "recovering"), 1);
  EXPECT_EQ(v("node_md_state", "md6", "active"), 0);
  EXPECT_EQ(v("node_md_blocks", "md6"), 195310144);
  EXPECT_EQ(v("node_md_blocks_synced", "md6"), 16775552);
  EXPECT_EQ(v("node_md_state", "md8", "resync"), 1);
  EXPECT_EQ(v("node_md_blocks_synced", "md9"), 0);  // resync=DELAYED
  EXPECT_EQ(v("node_md_state", "md11", "resync"), 1);
  EXPECT_EQ(v("node_md_disks_required", "md10"), 2);  // raid0: members counted
  EXPECT_EQ(v("node_md_disks", "md7", "failed"), 1);
  EXPECT_EQ(v("node_md_disks", "md219", "spare"), 3);
}

}  // namespace
}  // namespace xw::testing
