// netstat, sockstat, softnet, udp_queues, arp and conntrack against fixture trees copied from
// a real VM (a few rows added by hand where the VM had none worth testing).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include "collect.h"
#include "text_format.h"
#include "unique_fd.h"
#include "web_config.h"

namespace xw::testing {
namespace {

TEST(NetstatCollector, DefaultFieldFilterNamesAndHelp) {
  const auto f = Collect("netstat", FixturePaths());
  EXPECT_EQ(*Value(f, "node_netstat_Tcp_CurrEstab"), 6);
  EXPECT_EQ(*Value(f, "node_netstat_Tcp_InSegs"), 2969513);
  EXPECT_EQ(*Value(f, "node_netstat_Udp_NoPorts"), 225365);
  EXPECT_EQ(*Value(f, "node_netstat_TcpExt_ListenDrops"), 16079);
  EXPECT_EQ(*Value(f, "node_netstat_TcpExt_TCPTimeouts"), 13092);
  EXPECT_EQ(*Value(f, "node_netstat_Ip6_InOctets"), 71211);
  EXPECT_EQ(*Value(f, "node_netstat_Icmp6_InMsgs"), 1);
  EXPECT_EQ(*Value(f, "node_netstat_Udp6_InDatagrams"), 0);
  // Not in the default filter.
  EXPECT_FALSE(Value(f, "node_netstat_Tcp_MaxConn"));
  EXPECT_FALSE(Value(f, "node_netstat_Ip6_InReceives"));
  const auto* fam = FindFamily(f, "node_netstat_TcpExt_ListenDrops");
  ASSERT_NE(fam, nullptr);
  EXPECT_EQ(fam->help, "Statistic TcpExtListenDrops.");
  EXPECT_EQ(fam->type, prometheus::MetricType::Untyped);
  EXPECT_EQ(FindFamily(f, "node_netstat_Ip6_InOctets")->help, "Statistic Ip6InOctets.");
}

TEST(NetstatCollector, FieldsFlagSelectsAnyField) {
  const auto f = Collect("netstat", FixturePaths(), {{"collector.netstat.fields", "^Tcp_(MaxConn|RtoMin)$"}});
  EXPECT_EQ(*Value(f, "node_netstat_Tcp_MaxConn"), -1);  // signed in /proc/net/snmp
  EXPECT_EQ(*Value(f, "node_netstat_Tcp_RtoMin"), 200);
  EXPECT_EQ(f.size(), 2u);
  EXPECT_THROW(MakeCollector("netstat", FixturePaths(), {{"collector.netstat.fields", "("}}), ConfigError);
}

TEST(SockstatCollector, V4AndV6ProtocolsAndMemBytes) {
  const auto f = Collect("sockstat", FixturePaths());
  EXPECT_EQ(*Value(f, "node_sockstat_sockets_used"), 31);
  EXPECT_EQ(*Value(f, "node_sockstat_TCP_inuse"), 14);
  EXPECT_EQ(*Value(f, "node_sockstat_TCP_tw"), 796);
  EXPECT_EQ(*Value(f, "node_sockstat_TCP_mem"), 125);
  EXPECT_EQ(*Value(f, "node_sockstat_TCP_mem_bytes"), 125.0 * static_cast<double>(sysconf(_SC_PAGESIZE)));
  EXPECT_EQ(*Value(f, "node_sockstat_FRAG_memory"), 0);
  EXPECT_EQ(*Value(f, "node_sockstat_TCP6_inuse"), 1);
  EXPECT_FALSE(Value(f, "node_sockstat_FRAG_memory_bytes"));  // "memory" is bytes already
  EXPECT_EQ(FindFamily(f, "node_sockstat_TCP_tw")->help, "Number of TCP sockets in state tw.");
  EXPECT_EQ(FindFamily(f, "node_sockstat_sockets_used")->help, "Number of IPv4 sockets in use.");
}

TEST(SoftnetCollector, HexCountersPerCpu) {
  const auto f = Collect("softnet", FixturePaths());
  EXPECT_EQ(*Value(f, "node_softnet_processed_total", {{"cpu", "0"}}), 0x1e0814);
  EXPECT_EQ(*Value(f, "node_softnet_processed_total", {{"cpu", "1"}}), 0x162e79);
  EXPECT_EQ(*Value(f, "node_softnet_times_squeezed_total", {{"cpu", "0"}}), 0x1e);
  EXPECT_EQ(*Value(f, "node_softnet_dropped_total", {{"cpu", "1"}}), 0);
}

TEST(UdpQueuesCollector, SumsQueuesPerFamily) {
  const auto f = Collect("udp_queues", FixturePaths());
  EXPECT_EQ(*Value(f, "node_udp_queues", {{"ip", "v4"}, {"queue", "tx"}}), 0x10);
  EXPECT_EQ(*Value(f, "node_udp_queues", {{"ip", "v4"}, {"queue", "rx"}}), 0x200);
  EXPECT_EQ(*Value(f, "node_udp_queues", {{"ip", "v6"}, {"queue", "rx"}}), 0x100);
  EXPECT_EQ(*Value(f, "node_udp_queues", {{"ip", "v6"}, {"queue", "tx"}}), 0);
}

// A UDP socket on loopback with datagrams queued and never read: the sock_diag dump and
// /proc/net/udp must report the same sums. Other processes' sockets may change between the
// two reads, so a few attempts are allowed to see them agree.
TEST(UdpQueuesCollector, SockDiagGivesWhatProcGives) {
  exporter::Paths live;
  if (!std::filesystem::exists(live.Proc("net/udp"))) GTEST_SKIP() << "no /proc/net/udp here";
  const UniqueFd rx(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(rx.ok());
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(rx.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::getsockname(rx.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const UniqueFd tx(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  const std::string payload(1000, 'x');
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(::sendto(tx.get(), payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr),
              static_cast<ssize_t>(payload.size()));
  }
  const auto dump = MakeCollector("udp_queues", live, {{"collector.udp_queues.procfs-only", "false"}});
  const auto proc = MakeCollector("udp_queues", live, {{"collector.udp_queues.procfs-only", "true"}});
  std::string from_dump, from_proc;
  for (int attempt = 0; attempt < 5 && (from_dump.empty() || from_dump != from_proc); ++attempt) {
    from_dump.clear();
    from_proc.clear();
    AppendTextFormat(from_dump, dump->Collect());
    AppendTextFormat(from_proc, proc->Collect());
  }
  EXPECT_EQ(from_dump, from_proc);
  // Each queued datagram is charged its buffer's truesize, more than its 1000 bytes.
  const auto queued = Value(dump->Collect(), "node_udp_queues", {{"ip", "v4"}, {"queue", "rx"}});
  ASSERT_TRUE(queued);
  EXPECT_GE(*queued, 4000);
  EXPECT_THROW(MakeCollector("udp_queues", live, {{"collector.udp_queues.procfs-only", "yes"}}), ConfigError);
}

TEST(ArpCollector, EntriesPerDeviceAndFilters) {
  auto f = Collect("arp", FixturePaths());
  EXPECT_EQ(*Value(f, "node_arp_entries", {{"device", "eth0"}}), 2);
  EXPECT_EQ(*Value(f, "node_arp_entries", {{"device", "eth1"}}), 1);
  f = Collect("arp", FixturePaths(), {{"collector.arp.device-exclude", "^eth0$"}});
  EXPECT_FALSE(Value(f, "node_arp_entries", {{"device", "eth0"}}));
  f = Collect("arp", FixturePaths(), {{"collector.arp.device-include", "^eth0$"}});
  EXPECT_FALSE(Value(f, "node_arp_entries", {{"device", "eth1"}}));
  EXPECT_TRUE(Value(f, "node_arp_entries", {{"device", "eth0"}}));
}

TEST(ConntrackCollector, TableAndStatsSummedOverCpus) {
  const auto f = Collect("conntrack", FixturePaths());
  EXPECT_EQ(*Value(f, "node_nf_conntrack_entries"), 42);
  EXPECT_EQ(*Value(f, "node_nf_conntrack_entries_limit"), 262144);
  EXPECT_EQ(*Value(f, "node_nf_conntrack_stat_found"), 0x10 + 0x5);
  EXPECT_EQ(*Value(f, "node_nf_conntrack_stat_invalid"), 3);
  EXPECT_EQ(*Value(f, "node_nf_conntrack_stat_ignore"), 0x2a + 0x8);
  EXPECT_EQ(*Value(f, "node_nf_conntrack_stat_insert_failed"), 1);
  EXPECT_EQ(*Value(f, "node_nf_conntrack_stat_drop"), 3);
  EXPECT_EQ(*Value(f, "node_nf_conntrack_stat_search_restart"), 0x1f + 1);
  EXPECT_EQ(FindFamily(f, "node_nf_conntrack_stat_drop")->type, prometheus::MetricType::Gauge);
}

TEST(ConntrackCollector, ModuleNotLoadedIsNoDataNotFailure) {
  exporter::Paths p = FixturePaths();
  p.procfs = FixtureDir() + "/empty";
  EXPECT_THROW(Collect("conntrack", p), exporter::NoDataError);
  EXPECT_EQ(MakeCollector("conntrack", p)->NoSource(),
            p.procfs + "/sys/net/netfilter/nf_conntrack_count does not exist: conntrack probably not loaded");
  EXPECT_EQ(MakeCollector("conntrack", FixturePaths())->NoSource(), "");
}

}  // namespace
}  // namespace xw::testing
