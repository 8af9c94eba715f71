// A MariaDB connection (libmariadb) for the exporter: credentials from a my.cnf-style file,
// timeouts on connect, read and write, errors classified for metrics labels.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

struct st_mysql;

namespace xw::exporter {

struct MysqlError : std::runtime_error {
  // access_denied, unreachable, timeout, lost_connection, query, credentials
  std::string reason;
  unsigned int code = 0;
  MysqlError(std::string why, unsigned int errno_code, const std::string& what)
      : std::runtime_error(what), reason(std::move(why)), code(errno_code) {}
};

struct MysqlOptions {
  std::string host = "127.0.0.1";
  unsigned int port = 3306;
  std::string credentials_file;  // [client] user=..., password=...
  std::chrono::seconds timeout{2};
};

// Parses "host:port" (port optional); throws ConfigError.
void ParseMysqlAddress(const std::string& text, MysqlOptions& options);
// Reads user and password from the [client] section; throws MysqlError("credentials").
std::pair<std::string, std::string> ReadCredentials(const std::string& path);

using Row = std::map<std::string, std::optional<std::string>>;

class MysqlConnection {
 public:
  // Connects; throws MysqlError. The password is read from the file each time and never logged.
  explicit MysqlConnection(const MysqlOptions& options);
  ~MysqlConnection() = default;
  MysqlConnection(const MysqlConnection&) = delete;
  MysqlConnection& operator=(const MysqlConnection&) = delete;

  std::vector<Row> Query(const std::string& sql);
  void Execute(const std::string& sql);

 private:
  struct Closer {
    void operator()(st_mysql* m) const noexcept;
  };
  [[noreturn]] void Fail(const std::string& what);
  // A member, not a raw pointer closed in the destructor: a failed connect throws from the
  // constructor, and only fully built members are cleaned up then.
  std::unique_ptr<st_mysql, Closer> handle_;
  st_mysql* mysql_ = nullptr;  // handle_.get(), for the C API calls
};

}  // namespace xw::exporter
