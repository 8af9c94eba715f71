// MariaDB replication health for a master-master pair: SHOW ALL SLAVES STATUS (threads,
// errors, Seconds_Behind_Master and whether it is NULL, relay log space, GTID positions),
// read_only, and the real lag read from the peer's heartbeat row. Names follow
// mysqld_exporter where the meaning is the same, so its dashboards and mixin rules apply.
//
// An unreachable server never fails the scrape: mysql_up goes to 0 and the reason is counted.
#include <mutex>

#include "collector.h"
#include "log.h"
#include "metric_family.h"
#include "mysql/connection.h"
#include "mysql/heartbeat_writer.h"
#include "text_file.h"
#include "web_config.h"

namespace xw::exporter {
namespace {

double Number(const Row& row, const std::string& key) {
  const auto it = row.find(key);
  if (it == row.end() || !it->second) return 0;
  return ToDouble(*it->second).value_or(0);
}

std::string Text(const Row& row, const std::string& key) {
  const auto it = row.find(key);
  return it == row.end() || !it->second ? std::string() : *it->second;
}

// "0-1-100,1-2-7" -> one sample per domain.
void AddGtids(Family& f, const std::string& list, const std::string& position, const std::string& connection) {
  std::string_view rest(list);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view gtid = Trim(rest.substr(0, comma));
    const auto d1 = gtid.find('-');
    const auto d2 = gtid.rfind('-');
    if (d1 != std::string_view::npos && d2 != d1) {
      if (auto seq = ToUint64(gtid.substr(d2 + 1))) {
        Labels l{{"domain_id", std::string(gtid.substr(0, d1))},
                 {"position", position},
                 {"server_id", std::string(gtid.substr(d1 + 1, d2 - d1 - 1))}};
        if (!connection.empty()) l.push_back({"connection_name", connection});
        f.Add(static_cast<double>(*seq), std::move(l));
      }
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
}

class MysqlCollector : public Collector {
 public:
  explicit MysqlCollector(const CollectorContext& ctx) {
    ParseMysqlAddress(ctx.Option("collector.mysql.address"), options_);
    options_.credentials_file = ctx.Option("collector.mysql.credentials-file");
    if (options_.credentials_file.empty()) {
      throw ConfigError("--collector.mysql.credentials-file is required with --collector.mysql");
    }
    try {
      ReadCredentials(options_.credentials_file);
    } catch (const MysqlError& e) {
      throw ConfigError(std::string("--collector.mysql.credentials-file: ") + e.what());
    }
    // libmariadb's timeouts are whole seconds.
    const auto timeout = ctx.DurationOption("collector.mysql.timeout");
    if (timeout < std::chrono::seconds(1) || timeout > std::chrono::seconds(60)) {
      throw ConfigError("--collector.mysql.timeout must be 1s to 1m, got " + FormatGoDuration(timeout));
    }
    options_.timeout = std::chrono::duration_cast<std::chrono::seconds>(timeout);
    const auto interval = ctx.DurationOption("collector.mysql.heartbeat-interval");
    if (interval < std::chrono::nanoseconds::zero() || interval > std::chrono::seconds(60)) {
      throw ConfigError("--collector.mysql.heartbeat-interval must be 0 (off) to 1m, got " +
                        FormatGoDuration(interval));
    }
    if (interval > std::chrono::nanoseconds::zero()) {
      writer_ = std::make_unique<HeartbeatWriter>(
          options_,
          std::max(std::chrono::milliseconds(1), std::chrono::duration_cast<std::chrono::milliseconds>(interval)));
    }
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    std::lock_guard lock(mu_);
    bool up = false;
    try {
      if (!conn_) conn_ = std::make_unique<MysqlConnection>(options_);
      Scrape(out);
      up = true;
    } catch (const MysqlError& e) {
      conn_.reset();
      ++errors_[e.reason];
      log::Warn("MariaDB scrape failed", {{"reason", e.reason}, {"err", e.what()}});
    }
    Emit(out, Gauge("mysql_up", "Whether the MariaDB server answered this scrape.").Add(up ? 1 : 0));
    auto errors =
        Counter("xmppwatch_mysql_connection_errors_total", "Failed MariaDB connections or queries, by reason.");
    for (const auto& [reason, n] : errors_) errors.Add(n, {{"reason", reason}});
    Emit(out, std::move(errors));
    if (writer_) {
      Emit(out,
           Counter("xmppwatch_replication_heartbeat_writes_total", "Heartbeat rows this exporter wrote, by result.")
               .Add(static_cast<double>(writer_->writes_ok()), {{"result", "ok"}})
               .Add(static_cast<double>(writer_->writes_failed()), {{"result", "error"}}));
      Emit(out,
           Gauge("xmppwatch_replication_heartbeat_interval_seconds", "How often this exporter writes its heartbeat.")
               .Add(static_cast<double>(writer_->interval().count()) / 1000));
    }
    return out;
  }

 private:
  // Queries in the order of importance; a failure part way leaves out the rest.
  void Scrape(std::vector<prometheus::MetricFamily>& out) const {
    auto io = Gauge("mysql_slave_status_slave_io_running", "Whether the replication IO thread is running (Yes).");
    auto sql = Gauge("mysql_slave_status_slave_sql_running", "Whether the replication SQL thread is running (Yes).");
    auto io_errno = Gauge("mysql_slave_status_last_io_errno", "Last error number of the replication IO thread.");
    auto sql_errno = Gauge("mysql_slave_status_last_sql_errno", "Last error number of the replication SQL thread.");
    auto behind = Gauge("mysql_slave_status_seconds_behind_master", "Seconds_Behind_Master, when not NULL.");
    auto behind_null = Gauge("xmppwatch_mysql_seconds_behind_master_null",
                             "1 when Seconds_Behind_Master is NULL (replication thread stopped or not connected).");
    auto relay = Gauge("mysql_slave_status_relay_log_space", "Total size of the relay logs, bytes.");
    auto gtid = Gauge("xmppwatch_mysql_gtid_seq_no", "GTID sequence number per replication domain and position.");
    for (const Row& r : conn_->Query("SHOW ALL SLAVES STATUS")) {
      const std::string connection = Text(r, "Connection_name");
      const Labels l{{"connection_name", connection}, {"master_host", Text(r, "Master_Host")}};
      io.Add(Text(r, "Slave_IO_Running") == "Yes" ? 1 : 0, l);
      sql.Add(Text(r, "Slave_SQL_Running") == "Yes" ? 1 : 0, l);
      io_errno.Add(Number(r, "Last_IO_Errno"), l);
      sql_errno.Add(Number(r, "Last_SQL_Errno"), l);
      const auto sbm = r.find("Seconds_Behind_Master");
      const bool is_null = sbm == r.end() || !sbm->second;
      behind_null.Add(is_null ? 1 : 0, l);
      if (!is_null) behind.Add(Number(r, "Seconds_Behind_Master"), l);
      relay.Add(Number(r, "Relay_Log_Space"), l);
      AddGtids(gtid, Text(r, "Gtid_IO_Pos"), "io", connection);
    }
    const auto vars = conn_->Query(
        "SELECT @@server_id AS server_id, @@read_only AS read_only, @@gtid_binlog_pos AS binlog, "
        "@@gtid_slave_pos AS slave, @@gtid_current_pos AS current");
    const Row v = vars.empty() ? Row{} : vars.front();
    AddGtids(gtid, Text(v, "binlog"), "binlog", "");
    AddGtids(gtid, Text(v, "slave"), "slave", "");
    AddGtids(gtid, Text(v, "current"), "current", "");
    for (auto* f : {&io, &sql, &io_errno, &sql_errno, &behind, &behind_null, &relay, &gtid}) Emit(out, std::move(*f));
    Emit(out,
         Gauge("mysql_global_variables_read_only", "Whether the server is read_only.").Add(Number(v, "read_only")));

    // The peers' heartbeat rows as replicated here. A missing table (heartbeat not set up)
    // is not an error of the server: the lag family is simply absent.
    const std::string own_id = Text(v, "server_id");
    auto lag = Gauge("xmppwatch_replication_heartbeat_lag_seconds",
                     "Now minus the newest heartbeat timestamp replicated here from the peer master.");
    try {
      const std::int64_t now = NowMicros();
      for (const Row& r : conn_->Query("SELECT server_id, ts FROM xmppwatch.heartbeat")) {
        const std::string id = Text(r, "server_id");
        if (id == own_id) continue;
        lag.Add(static_cast<double>(now - static_cast<std::int64_t>(Number(r, "ts"))) / 1e6, {{"peer_server_id", id}});
      }
    } catch (const MysqlError& e) {
      if (e.reason != "query") throw;
      log::Debug("no heartbeat table", {{"err", e.what()}});
    }
    Emit(out, std::move(lag));
  }

  MysqlOptions options_;
  std::unique_ptr<HeartbeatWriter> writer_;
  mutable std::mutex mu_;
  mutable std::unique_ptr<MysqlConnection> conn_;
  mutable std::map<std::string, double> errors_;
};

const CollectorRegistrar kRegistrar({
    .name = "mysql",
    .enabled_by_default = false,
    .help = "MariaDB replication state and heartbeat lag",
    .flags = {StringFlag("collector.mysql.address", "127.0.0.1:3306", "host:port of this host's MariaDB"),
              StringFlag("collector.mysql.credentials-file", "",
                         "my.cnf-style file with user= and password= under [client]"),
              DurationFlag("collector.mysql.timeout", "2s", "Timeout for connect, read and write (whole seconds)"),
              DurationFlag("collector.mysql.heartbeat-interval", "1s",
                           "Time between heartbeat writes (0 = do not write; lag is then only read)")},
    .make = [](const CollectorContext& ctx) { return std::make_unique<MysqlCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
