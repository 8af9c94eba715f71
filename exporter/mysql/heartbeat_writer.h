// Writes this server's heartbeat row at a fixed interval, the pt-heartbeat idea: each master
// writes (server_id, microsecond timestamp) to xmppwatch.heartbeat, replication carries it to
// the peer, and the peer's exporter reads the row: lag = now - ts, whatever
// Seconds_Behind_Master says (NULL or 0 exactly when it matters).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "mysql/connection.h"

namespace xw::exporter {

class HeartbeatWriter {
 public:
  HeartbeatWriter(MysqlOptions options, std::chrono::milliseconds interval);
  ~HeartbeatWriter();
  HeartbeatWriter(const HeartbeatWriter&) = delete;
  HeartbeatWriter& operator=(const HeartbeatWriter&) = delete;

  std::uint64_t writes_ok() const { return ok_; }
  std::uint64_t writes_failed() const { return failed_; }
  std::chrono::milliseconds interval() const { return interval_; }

 private:
  void Loop();

  MysqlOptions options_;
  std::chrono::milliseconds interval_;
  std::atomic<std::uint64_t> ok_{0}, failed_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// Microseconds since the epoch, the unit of heartbeat.ts.
std::int64_t NowMicros();

}  // namespace xw::exporter
