// One TCP connection to an XMPP server, optionally wrapped in TLS, with every blocking step
// bounded by a deadline. Failures are ProbeError with the outcome an operator would want:
// refused vs timed out vs certificate rejected are different incidents.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace xp {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

struct TlsOptions {
  std::string ca_file;    // empty: the system store
  bool insecure = false;  // skip chain and name checks (explicit opt-in only)
  std::string min_version = "TLS12";
};

// An SSL_CTX built once and shared by every connection of a probe or load run.
class TlsContext {
 public:
  explicit TlsContext(const TlsOptions& options);  // throws ProbeError(kConfigError)
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  SSL_CTX* get() const { return ctx_; }
  bool insecure() const { return insecure_; }

 private:
  SSL_CTX* ctx_ = nullptr;
  bool insecure_ = false;
};

struct CertInfo {
  std::int64_t earliest_expiry_unix = 0;  // smallest notAfter over the presented chain
  std::int64_t leaf_expiry_unix = 0;
  std::string leaf_sha256;  // hex, lower case
  std::string leaf_subject;
  std::string tls_version;
  std::string cipher;
};

struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string text;
};

// getaddrinfo for host:port; throws ProbeError(kDnsError). May block as long as the system
// resolver likes (seconds per server, times retries): use ResolveBefore where a deadline holds.
std::vector<Endpoint> Resolve(const std::string& host, int port);
// Resolve (or `resolver`, when given) on a detached helper thread, waited for until the
// deadline: kDnsTimeout then, and the helper finishes on its own. Literal addresses skip the
// thread, since getaddrinfo answers them without asking anyone.
std::vector<Endpoint> ResolveBefore(const std::string& host, int port, Deadline deadline,
                                    const std::function<std::vector<Endpoint>(const std::string&, int)>& resolver = {});
// Splits "host:port" / "[v6]:port"; default_port when absent. Throws ProbeError(kConfigError).
std::pair<std::string, int> SplitHostPort(std::string_view target, int default_port);

// Channel-binding data of an established TLS session; empty when unavailable. Free functions
// so the load generator's non-blocking sessions compute them the same way.
std::string TlsExporterOf(SSL* ssl);        // RFC 9266, TLS 1.3 only
std::string TlsServerEndPointOf(SSL* ssl);  // RFC 5929 section 4
std::string TlsUniqueOf(SSL* ssl);          // RFC 5929 section 3

class Connection {
 public:
  Connection();
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Tries each endpoint in turn until one accepts. source: local IPv4/IPv6 address to bind
  // first (empty: the kernel's choice); lets tests keep auth-failure bans off shared sources.
  void Connect(const std::vector<Endpoint>& endpoints, Deadline deadline, const std::string& source = {});
  // TLS handshake on the connected socket; server_name is used for SNI and the host check.
  void StartTls(std::shared_ptr<TlsContext> ctx, const std::string& server_name, Deadline deadline);
  void Write(std::string_view data, Deadline deadline);
  // Waits for data until the deadline. nullopt on timeout; throws kClosed on EOF.
  std::optional<std::string> Read(Deadline deadline);
  void Close();

  bool tls() const { return ssl_ != nullptr; }
  SSL* ssl() const { return ssl_; }
  int fd() const { return fd_; }
  const CertInfo& cert() const { return cert_; }
  const std::string& peer() const { return peer_; }
  // Channel-binding data of the TLS session (RFC 9266 tls-exporter: TLS 1.3 only; RFC 5929
  // tls-server-end-point: hash of the server certificate). Empty when unavailable.
  std::string TlsExporter() const;
  std::string TlsServerEndPoint() const;
  // RFC 5929 tls-unique: the first Finished message of the handshake. What ejabberd 23.01
  // binds to; RFC 9266 deprecates it for TLS 1.3, where the exporter replaces it.
  std::string TlsUnique() const;
  bool tls13() const;

 private:
  void WaitFor(short events, Deadline deadline, const char* what);
  void CollectCertInfo();

  int fd_ = -1;
  SSL* ssl_ = nullptr;
  std::shared_ptr<TlsContext> ctx_;
  CertInfo cert_;
  std::string peer_;
};

}  // namespace xp
