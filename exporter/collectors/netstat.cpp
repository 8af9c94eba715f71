// node_netstat_* from /proc/net/netstat, /proc/net/snmp and /proc/net/snmp6: one untyped
// family per protocol field (node_exporter does not type them), filtered by
// --collector.netstat.fields.
#include <algorithm>

#include "collector.h"
#include "kept_file.h"
#include "match_cache.h"
#include "metric_family.h"
#include "text_file.h"

namespace xw::exporter {
namespace {

struct Stat {
  std::string key;        // "TcpExt_ListenDrops": the metric name after node_netstat_
  std::string help_name;  // "TcpExtListenDrops": node_exporter's HELP joins without '_'
  double value;
};

// Keeps the fields the filter selects. Every value is parsed first, as node_exporter does: a
// malformed file fails whatever fields are selected. The key is built in one reused buffer and
// looked up in the filter's cache, so the several hundred unselected fields cost no allocation.
class Selector {
 public:
  explicit Selector(const OrderedMatchCache& fields) : fields_(fields.Begin()) {}

  void Add(std::string_view proto, std::string_view name, double value) {
    key_.assign(proto).append("_").append(name);
    if (!fields_.Matches(key_)) return;
    kept_.push_back({key_, std::string(proto) + std::string(name), value});
  }
  // Sorted by name; a field seen twice (a kernel printing a protocol in two files) keeps the last.
  std::vector<Stat> Take() {
    std::stable_sort(kept_.begin(), kept_.end(), [](const Stat& a, const Stat& b) { return a.key < b.key; });
    std::vector<Stat> out;
    for (auto& s : kept_) {
      if (!out.empty() && out.back().key == s.key)
        out.back() = std::move(s);
      else
        out.push_back(std::move(s));
    }
    return out;
  }

 private:
  OrderedMatchCache::Pass fields_;
  std::string key_;
  std::vector<Stat> kept_;
};

// netstat and snmp: a header line "Proto: A B C" followed by its values line "Proto: 1 2 3".
void ParsePairs(const std::string& text, const std::string& path, Selector& out) {
  std::vector<std::string_view> lines;
  for (auto line : Lines(text)) {
    if (!Trim(line).empty()) lines.push_back(line);
  }
  if (lines.size() % 2 != 0) throw ParseError(path + ": a header line without its values line");
  std::vector<std::string_view> names;
  std::vector<std::string_view> values;
  for (std::size_t i = 0; i < lines.size(); i += 2) {
    const FileLine where(path, i + 2);
    Fields(lines[i], names);
    Fields(lines[i + 1], values);
    if (names.empty() || !names[0].ends_with(':') || names[0] != values[0]) {
      throw ParseError(where + ": values line does not follow its header");
    }
    if (names.size() != values.size()) {
      throw ParseError(where + ": " + std::to_string(names.size() - 1) + " names but " +
                       std::to_string(values.size() - 1) + " values");
    }
    const auto proto = names[0].substr(0, names[0].size() - 1);
    for (std::size_t k = 1; k < names.size(); ++k) out.Add(proto, names[k], DoubleOrThrow(values[k], where));
  }
}

// snmp6: "Ip6InReceives  817" lines; the protocol is the name up to and including its first '6'.
void ParseSnmp6(const std::string& text, const std::string& path, Selector& out) {
  std::size_t line_no = 0;
  std::vector<std::string_view> f;
  for (auto line : Lines(text)) {
    ++line_no;
    Fields(line, f);
    if (f.empty()) continue;
    const auto v = f.size() == 2 ? ToDouble(f[1]) : std::nullopt;
    if (!v) throw ParseError(FileLine(path, line_no) + ": expected 'Name value'");
    const auto six = f[0].find('6');
    if (six == std::string_view::npos) continue;
    out.Add(f[0].substr(0, six + 1), f[0].substr(six + 1), *v);
  }
}

class NetstatCollector : public Collector {
 public:
  explicit NetstatCollector(const CollectorContext& ctx)
      : netstat_(ctx.paths.Proc("net/netstat"), KeptFile::Printed::kInOnePiece),
        snmp_(ctx.paths.Proc("net/snmp"), KeptFile::Printed::kInOnePiece),
        snmp6_(ctx.paths.Proc("net/snmp6"), KeptFile::Printed::kInOnePiece),
        fields_(ctx.Option("collector.netstat.fields"), "collector.netstat.fields") {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    Selector stats(fields_);
    ParsePairs(netstat_.Read(), netstat_.path(), stats);
    ParsePairs(snmp_.Read(), snmp_.path(), stats);
    // Absent when IPv6 is disabled: not an error, as in node_exporter.
    if (auto text = snmp6_.ReadIfExists()) ParseSnmp6(*text, snmp6_.path(), stats);
    std::vector<prometheus::MetricFamily> out;
    for (const auto& s : stats.Take()) {
      Emit(out, Family("node_netstat_" + s.key, "Statistic " + s.help_name + ".", prometheus::MetricType::Untyped)
                    .Add(s.value));
    }
    return out;
  }

 private:
  mutable KeptFile netstat_;
  mutable KeptFile snmp_;
  mutable KeptFile snmp6_;
  OrderedMatchCache fields_;
};

const CollectorRegistrar kRegistrar({
    .name = "netstat",
    .enabled_by_default = true,
    .help = "Network statistics from /proc/net/netstat, snmp and snmp6",
    .flags = {RegexFlag(
        "collector.netstat.fields",
        "^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|"
        "TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|"
        "PassiveOpens|RetransSegs|CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|"
        "SndbufErrors))$",
        "Regexp of fields to return (Proto_Field, e.g. Tcp_CurrEstab)")},
    .make = [](const CollectorContext& ctx) { return std::make_unique<NetstatCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
