// node_netstat_* from /proc/net/netstat, /proc/net/snmp and /proc/net/snmp6: one untyped
// family per protocol field (node_exporter does not type them), filtered by
// --collector.netstat.fields.
#include <map>

#include "collector.h"
#include "match_cache.h"
#include "metric_family.h"
#include "text_file.h"

namespace xw::exporter {
namespace {

struct Stat {
  std::string help_name;  // "TcpExtListenDrops": node_exporter's HELP joins without '_'
  double value;
};
using Stats = std::map<std::string, Stat>;  // "TcpExt_ListenDrops" -> stat, sorted for output

// netstat and snmp: a header line "Proto: A B C" followed by its values line "Proto: 1 2 3".
void ParsePairs(const std::string& text, const std::string& path, Stats& out) {
  std::vector<std::string_view> lines;
  for (auto line : Lines(text)) {
    if (!Trim(line).empty()) lines.push_back(line);
  }
  if (lines.size() % 2 != 0) throw ParseError(path + ": a header line without its values line");
  for (std::size_t i = 0; i < lines.size(); i += 2) {
    const std::string where = path + " line " + std::to_string(i + 2);
    const auto names = Fields(lines[i]);
    const auto values = Fields(lines[i + 1]);
    if (names.empty() || !names[0].ends_with(':') || names[0] != values[0]) {
      throw ParseError(where + ": values line does not follow its header");
    }
    if (names.size() != values.size()) {
      throw ParseError(where + ": " + std::to_string(names.size() - 1) + " names but " +
                       std::to_string(values.size() - 1) + " values");
    }
    const std::string proto(names[0].substr(0, names[0].size() - 1));
    for (std::size_t k = 1; k < names.size(); ++k) {
      // Values are parsed before filtering, as node_exporter does: a malformed file fails
      // whatever fields are selected.
      out[proto + "_" + std::string(names[k])] = {proto + std::string(names[k]), DoubleOrThrow(values[k], where)};
    }
  }
}

// snmp6: "Ip6InReceives  817" lines; the protocol is the name up to and including its first '6'.
void ParseSnmp6(const std::string& text, const std::string& path, Stats& out) {
  std::size_t line_no = 0;
  for (auto line : Lines(text)) {
    ++line_no;
    const auto f = Fields(line);
    if (f.empty()) continue;
    const std::string where = path + " line " + std::to_string(line_no);
    if (f.size() != 2) throw ParseError(where + ": expected 'Name value'");
    const double v = DoubleOrThrow(f[1], where);
    const auto six = f[0].find('6');
    if (six == std::string_view::npos) continue;
    const std::string proto(f[0].substr(0, six + 1));
    out[proto + "_" + std::string(f[0].substr(six + 1))] = {std::string(f[0]), v};
  }
}

class NetstatCollector : public Collector {
 public:
  explicit NetstatCollector(const CollectorContext& ctx)
      : netstat_(ctx.paths.Proc("net/netstat")),
        snmp_(ctx.paths.Proc("net/snmp")),
        snmp6_(ctx.paths.Proc("net/snmp6")),
        fields_(ctx.Option("collector.netstat.fields"), "collector.netstat.fields") {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    Stats stats;
    ParsePairs(ReadFile(netstat_), netstat_, stats);
    ParsePairs(ReadFile(snmp_), snmp_, stats);
    // Absent when IPv6 is disabled: not an error, as in node_exporter.
    if (auto text = ReadFileIfExists(snmp6_)) ParseSnmp6(*text, snmp6_, stats);
    std::vector<prometheus::MetricFamily> out;
    for (const auto& [key, stat] : stats) {
      if (!fields_.Matches(key)) continue;
      Emit(out, Family("node_netstat_" + key, "Statistic " + stat.help_name + ".", prometheus::MetricType::Untyped)
                    .Add(stat.value));
    }
    return out;
  }

 private:
  std::string netstat_, snmp_, snmp6_;
  MatchCache fields_;
};

const CollectorRegistrar kRegistrar({
    .name = "netstat",
    .enabled_by_default = true,
    .help = "Network statistics from /proc/net/netstat, snmp and snmp6",
    .flags = {{"collector.netstat.fields",
               "^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|"
               "TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|"
               "PassiveOpens|RetransSegs|CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|"
               "SndbufErrors))$",
               "Regexp of fields to return (Proto_Field, e.g. Tcp_CurrEstab)"}},
    .make = [](const CollectorContext& ctx) { return std::make_unique<NetstatCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
