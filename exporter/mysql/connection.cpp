#include "connection.h"

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include <mutex>

#include "text_file.h"
#include "web_config.h"

namespace xw::exporter {
namespace {

std::string Reason(unsigned int code) {
  switch (code) {
    case ER_ACCESS_DENIED_ERROR:
    case ER_DBACCESS_DENIED_ERROR:
    case ER_TABLEACCESS_DENIED_ERROR:
    case ER_SPECIFIC_ACCESS_DENIED_ERROR:
      return "access_denied";
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_UNKNOWN_HOST:
      return "unreachable";
    case CR_SERVER_LOST:
    case CR_SERVER_GONE_ERROR:
      return "lost_connection";
    default:
      return "query";
  }
}

std::string Unquote(std::string_view v) {
  v = Trim(v);
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) v = v.substr(1, v.size() - 2);
  return std::string(v);
}

}  // namespace

void ParseMysqlAddress(const std::string& text, MysqlOptions& options) {
  const auto colon = text.rfind(':');
  options.host = text.substr(0, colon);
  if (colon != std::string::npos) {
    const auto port = ToUint64(text.substr(colon + 1));
    if (!port || *port == 0 || *port > 65535) throw ConfigError("MariaDB address '" + text + "': bad port");
    options.port = static_cast<unsigned int>(*port);
  }
  if (options.host.empty()) throw ConfigError("MariaDB address '" + text + "': no host");
}

std::pair<std::string, std::string> ReadCredentials(const std::string& path) {
  std::optional<std::string> text;
  try {
    text = ReadFile(path, 64 * 1024);
  } catch (const ParseError& e) {
    throw MysqlError("credentials", 0, e.what());
  }
  std::string section, user, password;
  for (std::string_view line : Lines(*text)) {
    line = Trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = std::string(line.substr(1, line.size() - 2));
      continue;
    }
    if (section != "client") continue;
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string key(Trim(line.substr(0, eq)));
    if (key == "user") user = Unquote(line.substr(eq + 1));
    if (key == "password") password = Unquote(line.substr(eq + 1));
  }
  if (user.empty()) throw MysqlError("credentials", 0, path + ": no user= in a [client] section");
  return {user, password};
}

MysqlConnection::MysqlConnection(const MysqlOptions& o) {
  // mysql_library_init is not thread-safe the first time; later calls are no-ops.
  static std::once_flag init;
  std::call_once(init, [] { mysql_library_init(0, nullptr, nullptr); });
  const auto [user, password] = ReadCredentials(o.credentials_file);
  handle_.reset(mysql_init(nullptr));
  mysql_ = handle_.get();
  if (mysql_ == nullptr) throw MysqlError("query", 0, "mysql_init: out of memory");
  const unsigned int secs = static_cast<unsigned int>(o.timeout.count());
  mysql_optionsv(mysql_, MYSQL_OPT_CONNECT_TIMEOUT, &secs);
  mysql_optionsv(mysql_, MYSQL_OPT_READ_TIMEOUT, &secs);
  mysql_optionsv(mysql_, MYSQL_OPT_WRITE_TIMEOUT, &secs);
  // TCP even for 127.0.0.x: the server is addressed by host, not by a socket path.
  const unsigned int protocol = MYSQL_PROTOCOL_TCP;
  mysql_optionsv(mysql_, MYSQL_OPT_PROTOCOL, &protocol);
  if (mysql_real_connect(mysql_, o.host.c_str(), user.c_str(), password.c_str(), nullptr, o.port, nullptr, 0) ==
      nullptr) {
    Fail("connect to " + o.host + ":" + std::to_string(o.port));
  }
}

void MysqlConnection::Closer::operator()(st_mysql* m) const noexcept {
  mysql_close(m);
}

void MysqlConnection::Fail(const std::string& what) {
  const unsigned int code = mysql_errno(mysql_);
  std::string reason = Reason(code);
  const std::string message = mysql_error(mysql_);
  if (message.find("timeout") != std::string::npos || message.find("timed out") != std::string::npos) {
    reason = "timeout";
  }
  throw MysqlError(reason, code, what + ": " + message + " (" + std::to_string(code) + ")");
}

void MysqlConnection::Execute(const std::string& sql) {
  if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) Fail("query");
  if (MYSQL_RES* res = mysql_store_result(mysql_)) mysql_free_result(res);
}

std::vector<Row> MysqlConnection::Query(const std::string& sql) {
  if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) Fail("query");
  MYSQL_RES* res = mysql_store_result(mysql_);
  std::vector<Row> rows;
  if (res == nullptr) {
    if (mysql_field_count(mysql_) != 0) Fail("reading result");
    return rows;
  }
  const unsigned int n = mysql_num_fields(res);
  const MYSQL_FIELD* fields = mysql_fetch_fields(res);
  while (MYSQL_ROW r = mysql_fetch_row(res)) {
    const unsigned long* lengths = mysql_fetch_lengths(res);
    Row row;
    for (unsigned int i = 0; i < n; ++i) {
      row[fields[i].name] = r[i] == nullptr ? std::nullopt : std::optional<std::string>(std::string(r[i], lengths[i]));
    }
    rows.push_back(std::move(row));
  }
  mysql_free_result(res);
  return rows;
}

}  // namespace xw::exporter
