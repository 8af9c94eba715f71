#include "connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <mutex>

#include "outcome.h"

namespace xp {

namespace {

void IgnoreSigpipe() {
  // OpenSSL writes with write(2), which raises SIGPIPE on a reset peer; a dead server must
  // not kill the probe, so the probe takes the error return instead.
  static std::once_flag once;
  std::call_once(once, [] { std::signal(SIGPIPE, SIG_IGN); });
}

std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no OpenSSL error queued" : out;
}

int RemainingMs(Deadline deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

std::int64_t AsnTimeToUnix(const ASN1_TIME* t) {
  struct tm tm {};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<std::int64_t>(timegm(&tm));
}

int TlsVersion(const std::string& name) {
  if (name == "TLS13") return TLS1_3_VERSION;
  if (name == "TLS11") return TLS1_1_VERSION;
  if (name == "TLS10") return TLS1_VERSION;
  return TLS1_2_VERSION;
}

void BindSource(int fd, int family, const std::string& source) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    if (inet_pton(AF_INET, source.c_str(), &sin->sin_addr) != 1)
      throw ProbeError(Outcome::kConfigError, "bad source address '" + source + "'");
    len = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    if (inet_pton(AF_INET6, source.c_str(), &sin6->sin6_addr) != 1)
      throw ProbeError(Outcome::kConfigError, "bad source address '" + source + "'");
    len = sizeof(sockaddr_in6);
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    throw ProbeError(Outcome::kConnectError, "binding source address " + source + ": " + std::strerror(errno));
  }
}

}  // namespace

TlsContext::TlsContext(const TlsOptions& options) : insecure_(options.insecure) {
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (!ctx_) throw ProbeError(Outcome::kConfigError, "SSL_CTX_new: " + OpenSslErrors());
  SSL_CTX_set_min_proto_version(ctx_, TlsVersion(options.min_version));
  if (options.insecure) {
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
    return;
  }
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  int ok = options.ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx_)
                                   : SSL_CTX_load_verify_locations(ctx_, options.ca_file.c_str(), nullptr);
  if (ok != 1) {
    std::string why = OpenSslErrors();
    SSL_CTX_free(ctx_);
    ctx_ = nullptr;
    throw ProbeError(Outcome::kConfigError, "cannot load CA file '" + options.ca_file + "': " + why);
  }
}

TlsContext::~TlsContext() {
  if (ctx_) SSL_CTX_free(ctx_);
}

Connection::Connection() {
  IgnoreSigpipe();
}
Connection::~Connection() {
  Close();
}

void Connection::Close() {
  if (ssl_) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

void Connection::WaitFor(short events, Deadline deadline, const char* what) {
  for (int attempt = 0; attempt < 1000000; ++attempt) {
    pollfd p{fd_, events, 0};
    int rc = ::poll(&p, 1, RemainingMs(deadline));
    if (rc > 0) return;
    if (rc == 0) throw ProbeError(Outcome::kTimeout, std::string("timed out ") + what);
    if (errno != EINTR) throw ProbeError(Outcome::kConnectError, std::string("poll: ") + std::strerror(errno));
  }
}

void Connection::Connect(const std::vector<Endpoint>& endpoints, Deadline deadline, const std::string& source) {
  Close();
  ProbeError last(Outcome::kConnectError, "no endpoints");
  for (const Endpoint& ep : endpoints) {
    fd_ = ::socket(ep.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw ProbeError(Outcome::kConnectError, std::string("socket: ") + std::strerror(errno));
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (!source.empty()) BindSource(fd_, ep.addr.ss_family, source);
    int rc = ::connect(fd_, reinterpret_cast<const sockaddr*>(&ep.addr), ep.len);
    int err = rc == 0 ? 0 : errno;
    if (err == EINPROGRESS) {
      try {
        WaitFor(POLLOUT, deadline, ("connecting to " + ep.text).c_str());
      } catch (const ProbeError&) {
        Close();
        throw;  // the deadline is shared, so later endpoints would not get a chance anyway
      }
      socklen_t len = sizeof err;
      getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    }
    if (err == 0) {
      peer_ = ep.text;
      return;
    }
    Close();
    Outcome o = err == ECONNREFUSED ? Outcome::kConnectRefused
                : err == ETIMEDOUT  ? Outcome::kTimeout
                                    : Outcome::kConnectError;
    last = ProbeError(o, "connecting to " + ep.text + ": " + std::strerror(err));
  }
  throw last;
}

void Connection::StartTls(std::shared_ptr<TlsContext> ctx, const std::string& server_name, Deadline deadline) {
  ctx_ = std::move(ctx);
  ERR_clear_error();
  ssl_ = SSL_new(ctx_->get());
  if (!ssl_) throw ProbeError(Outcome::kTlsError, "SSL_new: " + OpenSslErrors());
  SSL_set_fd(ssl_, fd_);
  in6_addr ip6;
  in_addr ip4;
  bool is_ip =
      inet_pton(AF_INET, server_name.c_str(), &ip4) == 1 || inet_pton(AF_INET6, server_name.c_str(), &ip6) == 1;
  if (!is_ip) SSL_set_tlsext_host_name(ssl_, server_name.c_str());
  if (!ctx_->insecure()) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, server_name.c_str())
                   : X509_VERIFY_PARAM_set1_host(param, server_name.c_str(), 0);
    if (ok != 1) throw ProbeError(Outcome::kConfigError, "bad TLS server name '" + server_name + "'");
  }
  for (int step = 0; step < 100000; ++step) {
    int rc = SSL_connect(ssl_);
    if (rc == 1) {
      CollectCertInfo();
      return;
    }
    int err = SSL_get_error(ssl_, rc);
    if (err == SSL_ERROR_WANT_READ) {
      WaitFor(POLLIN, deadline, "in TLS handshake");
    } else if (err == SSL_ERROR_WANT_WRITE) {
      WaitFor(POLLOUT, deadline, "in TLS handshake");
    } else {
      long verify = SSL_get_verify_result(ssl_);
      if (verify != X509_V_OK) {
        throw ProbeError(Outcome::kCertVerifyFailed, std::string("certificate for '") + server_name +
                                                         "': " + X509_verify_cert_error_string(verify));
      }
      std::string why = err == SSL_ERROR_SYSCALL ? "connection closed during handshake" : OpenSslErrors();
      throw ProbeError(Outcome::kTlsError, "TLS handshake with " + peer_ + ": " + why);
    }
  }
  throw ProbeError(Outcome::kTlsError, "TLS handshake did not finish");
}

bool Connection::tls13() const {
  return ssl_ && SSL_version(ssl_) >= TLS1_3_VERSION;
}
std::string Connection::TlsExporter() const {
  return ssl_ ? TlsExporterOf(ssl_) : std::string();
}
std::string Connection::TlsServerEndPoint() const {
  return ssl_ ? TlsServerEndPointOf(ssl_) : std::string();
}
std::string Connection::TlsUnique() const {
  return ssl_ ? TlsUniqueOf(ssl_) : std::string();
}

std::string TlsExporterOf(SSL* ssl) {
  // RFC 9266: 32 bytes, empty context, defined for TLS 1.3 only (below it the exporter is not
  // bound to the handshake unless extended master secret is in use).
  if (SSL_version(ssl) < TLS1_3_VERSION) return {};
  static constexpr char kLabel[] = "EXPORTER-Channel-Binding";
  unsigned char out[32];
  if (SSL_export_keying_material(ssl, out, sizeof out, kLabel, sizeof kLabel - 1, nullptr, 0, 0) != 1) return {};
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

std::string TlsServerEndPointOf(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (!cert) return {};
  // The certificate's signature hash, except that MD5 and SHA-1 become SHA-256.
  int md_nid = NID_undef;
  if (X509_get_signature_info(cert, &md_nid, nullptr, nullptr, nullptr) != 1) return {};
  const EVP_MD* md = md_nid == NID_md5 || md_nid == NID_sha1 ? EVP_sha256() : EVP_get_digestbynid(md_nid);
  if (!md) return {};  // EdDSA and the like have no separate hash: no binding defined
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, md, out, &len) != 1) return {};
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string TlsUniqueOf(SSL* ssl) {
  unsigned char buf[128];
  // The client's Finished message, resumed or not and on TLS 1.3 too: what ejabberd (fast_tls'
  // get_tls_last_message(peer)) binds to, so that is what interoperates. RFC 5929 would take
  // the server's on a TLS 1.2 resumption, which this client's own sessions never use.
  std::size_t n = SSL_get_finished(ssl, buf, sizeof buf);
  return std::string(reinterpret_cast<char*>(buf), std::min(n, sizeof buf));
}

void Connection::CollectCertInfo() {
  cert_ = {};
  cert_.tls_version = SSL_get_version(ssl_);
  cert_.cipher = SSL_get_cipher_name(ssl_);
  X509* leaf = SSL_get0_peer_certificate(ssl_);
  if (!leaf) return;
  cert_.leaf_expiry_unix = AsnTimeToUnix(X509_get0_notAfter(leaf));
  cert_.earliest_expiry_unix = cert_.leaf_expiry_unix;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(leaf, EVP_sha256(), md, &len) == 1) {
    static const char* hex = "0123456789abcdef";
    for (unsigned int i = 0; i < len; ++i) {
      cert_.leaf_sha256 += hex[md[i] >> 4];
      cert_.leaf_sha256 += hex[md[i] & 15];
    }
  }
  char subject[256] = {};
  X509_NAME_oneline(X509_get_subject_name(leaf), subject, sizeof subject - 1);
  cert_.leaf_subject = subject;
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl_)) {
    for (int i = 0; i < sk_X509_num(chain); ++i) {
      std::int64_t t = AsnTimeToUnix(X509_get0_notAfter(sk_X509_value(chain, i)));
      if (t != 0 && t < cert_.earliest_expiry_unix) cert_.earliest_expiry_unix = t;
    }
  }
}

void Connection::Write(std::string_view data, Deadline deadline) {
  if (fd_ < 0) throw ProbeError(Outcome::kClosed, "write on a closed connection");
  while (!data.empty()) {
    if (ssl_) {
      ERR_clear_error();
      int rc = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
      if (rc > 0) {
        data.remove_prefix(static_cast<std::size_t>(rc));
        continue;
      }
      int err = SSL_get_error(ssl_, rc);
      if (err == SSL_ERROR_WANT_WRITE)
        WaitFor(POLLOUT, deadline, "writing");
      else if (err == SSL_ERROR_WANT_READ)
        WaitFor(POLLIN, deadline, "writing");
      else
        throw ProbeError(Outcome::kClosed, "TLS write failed: " + OpenSslErrors());
    } else {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<std::size_t>(n));
      } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        WaitFor(POLLOUT, deadline, "writing");
      } else {
        throw ProbeError(Outcome::kClosed, std::string("write failed: ") + std::strerror(errno));
      }
    }
  }
}

std::optional<std::string> Connection::Read(Deadline deadline) {
  if (fd_ < 0) throw ProbeError(Outcome::kClosed, "read on a closed connection");
  char buf[16384];
  for (int attempt = 0; attempt < 100000; ++attempt) {
    if (ssl_) {
      ERR_clear_error();
      int rc = SSL_read(ssl_, buf, sizeof buf);
      if (rc > 0) return std::string(buf, static_cast<std::size_t>(rc));
      int err = SSL_get_error(ssl_, rc);
      if (err == SSL_ERROR_ZERO_RETURN) throw ProbeError(Outcome::kClosed, "peer closed the TLS session");
      short events = err == SSL_ERROR_WANT_READ ? POLLIN : err == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
      if (events == 0) {
        throw ProbeError(Outcome::kClosed,
                         err == SSL_ERROR_SYSCALL ? "connection closed" : "TLS read failed: " + OpenSslErrors());
      }
      pollfd p{fd_, events, 0};
      int prc = ::poll(&p, 1, RemainingMs(deadline));
      if (prc == 0) return std::nullopt;
      if (prc < 0 && errno != EINTR) throw ProbeError(Outcome::kClosed, std::string("poll: ") + std::strerror(errno));
    } else {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) return std::string(buf, static_cast<std::size_t>(n));
      if (n == 0) throw ProbeError(Outcome::kClosed, "peer closed the connection");
      if (errno != EAGAIN && errno != EINTR)
        throw ProbeError(Outcome::kClosed, std::string("read failed: ") + std::strerror(errno));
      pollfd p{fd_, POLLIN, 0};
      int prc = ::poll(&p, 1, RemainingMs(deadline));
      if (prc == 0) return std::nullopt;
      if (prc < 0 && errno != EINTR) throw ProbeError(Outcome::kClosed, std::string("poll: ") + std::strerror(errno));
    }
  }
  return std::nullopt;
}

}  // namespace xp
