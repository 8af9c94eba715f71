#include "mysql/heartbeat_writer.h"

#include "log.h"

namespace xw::exporter {

std::int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

HeartbeatWriter::HeartbeatWriter(MysqlOptions options, std::chrono::milliseconds interval)
    : options_(std::move(options)), interval_(interval), thread_([this] { Loop(); }) {}

HeartbeatWriter::~HeartbeatWriter() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void HeartbeatWriter::Loop() {
  std::unique_ptr<MysqlConnection> conn;
  std::string last_error;
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    try {
      if (!conn) conn = std::make_unique<MysqlConnection>(options_);
      conn->Execute("INSERT INTO xmppwatch.heartbeat (server_id, ts) VALUES (@@server_id, " +
                    std::to_string(NowMicros()) + ") ON DUPLICATE KEY UPDATE ts = VALUES(ts)");
      ++ok_;
      if (!last_error.empty()) log::Info("heartbeat writes resumed");
      last_error.clear();
    } catch (const MysqlError& e) {
      ++failed_;
      conn.reset();
      // Log a failure once, not at every interval.
      if (last_error != e.what()) log::Warn("heartbeat write failed", {{"reason", e.reason}, {"err", e.what()}});
      last_error = e.what();
    }
    lock.lock();
    cv_.wait_for(lock, interval_, [this] { return stop_; });
  }
}

}  // namespace xw::exporter
