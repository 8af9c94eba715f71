#include "fake_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <utility>

#include "xmpp/scram.h"

namespace xp::test {

TestCert::~TestCert() {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

std::unique_ptr<TestCert> MakeSelfSignedCert(const std::string& dns_name) {
  auto out = std::make_unique<TestCert>();
  char tmpl[] = "/tmp/xp-cert-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
  out->dir = tmpl;
  out->cert_file = out->dir + "/cert.pem";
  out->key_file = out->dir + "/key.pem";
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 30);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(dns_name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(x, name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "DNS:" + dns_name},
                            std::pair{NID_basic_constraints, std::string("critical,CA:TRUE")}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, key, EVP_sha256());
  FILE* f = std::fopen(out->cert_file.c_str(), "w");
  PEM_write_X509(f, x);
  std::fclose(f);
  f = std::fopen(out->key_file.c_str(), "w");
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

FakeConn::~FakeConn() {
  if (ssl_) SSL_free(ssl_);
  ::close(fd_);
}

std::string FakeConn::ReadUntil(const std::string& needle, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (int i = 0; i < 100000; ++i) {
    auto pos = buffer_.find(needle);
    if (pos != std::string::npos) {
      std::string out = buffer_.substr(0, pos + needle.size());
      buffer_.erase(0, pos + needle.size());
      return out;
    }
    if (!ssl_ || SSL_pending(ssl_) == 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return {};
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return {};
    }
    char buf[4096];
    int n = ssl_ ? SSL_read(ssl_, buf, sizeof buf) : static_cast<int>(::recv(fd_, buf, sizeof buf, 0));
    if (n <= 0) return {};
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
  return {};
}

bool FakeConn::Write(const std::string& data) {
  std::lock_guard lock(write_mu_);
  if (ssl_) return SSL_write(ssl_, data.data(), static_cast<int>(data.size())) == static_cast<int>(data.size());
  return ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
}

std::string FakeConn::ReadSome(std::chrono::milliseconds timeout) {
  if (!buffer_.empty()) return std::exchange(buffer_, std::string());
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return {};
  char buf[4096];
  ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

void FakeConn::Kill() {
  linger l{1, 0};  // RST, like a killed process's socket
  setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::shutdown(fd_, SHUT_RDWR);
}

bool FakeConn::StartTls(int max_version) {
  if (!tls_) return false;
  ssl_ = SSL_new(tls_);
  SSL_set_fd(ssl_, fd_);
  if (max_version != 0) SSL_set_max_proto_version(ssl_, max_version);
  return SSL_accept(ssl_) == 1;
}

std::string FakeConn::TlsExporter() const {
  if (!ssl_) return {};
  static constexpr char kLabel[] = "EXPORTER-Channel-Binding";
  unsigned char out[32];
  if (SSL_export_keying_material(ssl_, out, sizeof out, kLabel, sizeof kLabel - 1, nullptr, 0, 0) != 1) return {};
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

std::string FakeConn::TlsUnique() const {
  if (!ssl_) return {};
  unsigned char buf[128];
  std::size_t n = SSL_get_peer_finished(ssl_, buf, sizeof buf);
  return std::string(reinterpret_cast<char*>(buf), std::min(n, sizeof buf));
}

std::string FakeConn::TlsServerEndPoint() const {
  X509* cert = ssl_ ? SSL_get_certificate(ssl_) : nullptr;
  if (!cert) return {};
  // The test certificate is signed with SHA-256, which RFC 5929 section 4.1 then uses as is.
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  X509_digest(cert, EVP_sha256(), md, &len);
  return std::string(reinterpret_cast<char*>(md), len);
}

void FakeConn::WaitClosed(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) > 0 && ::recv(fd_, buf, sizeof buf, 0) <= 0) return;
  }
}

FakeServer::FakeServer(Script script, const TestCert* cert) : script_(std::move(script)) {
  if (cert) {
    tls_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate_file(tls_, cert->cert_file.c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_use_PrivateKey_file(tls_, cert->key_file.c_str(), SSL_FILETYPE_PEM);
  }
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 16) != 0) {
    throw std::runtime_error("fake server cannot listen");
  }
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Run(); });
}

FakeServer::~FakeServer() {
  stop_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  thread_.join();
  for (auto& t : connections_) t.join();
  ::close(listen_fd_);
  if (tls_) SSL_CTX_free(tls_);
}

void FakeServer::Run() {
  for (int accepted = 0; accepted < 100 && !stop_; ++accepted) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) {
      --accepted;
      continue;
    }
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    // Scripts are bounded by their own read timeouts, so every thread ends by itself.
    connections_.emplace_back([this, fd] {
      FakeConn conn(fd, tls_);
      script_(conn);
    });
  }
}

int UnusedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

namespace {
std::string Attr(const std::string& msg, char key) {
  std::size_t start = 0;
  for (int i = 0; i < 100 && start <= msg.size(); ++i) {
    auto end = msg.find(',', start);
    std::string part = msg.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (part.size() >= 2 && part[0] == key && part[1] == '=') return part.substr(2);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return {};
}
std::string Hmac(const EVP_MD* md, const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()), data.size(),
       out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}
}  // namespace

std::string ScramServer::ServerFirst(const std::string& client_first) {
  // gs2 header: cbind flag, authzid, then the bare message (RFC 5802 section 7).
  auto second_comma = client_first.find(',', client_first.find(',') + 1);
  gs2_header_ = client_first.substr(0, second_comma + 1);
  client_first_bare_ = client_first.substr(second_comma + 1);
  server_first_ = "r=" + Attr(client_first_bare_, 'r') + "srvnonce,s=" + Base64Encode("saltsalt") +
                  ",i=" + std::to_string(iterations);
  return server_first_;
}

std::string ScramServer::ServerFinal(const std::string& client_final) {
  const EVP_MD* md = sha256_ ? EVP_sha256() : EVP_sha1();
  std::string salted(static_cast<std::size_t>(EVP_MD_get_size(md)), '\0');
  PKCS5_PBKDF2_HMAC(password_.data(), static_cast<int>(password_.size()),
                    reinterpret_cast<const unsigned char*>("saltsalt"), 8, iterations, md,
                    static_cast<int>(salted.size()), reinterpret_cast<unsigned char*>(salted.data()));
  if (gs2_header_.starts_with("y") && offered_plus) return {};  // downgrade: RFC 5802 section 6
  std::string binding = gs2_header_ + (gs2_header_.starts_with("p=") ? cb_data : std::string());
  if (Attr(client_final, 'c') != Base64Encode(binding)) return {};
  std::string without_proof = client_final.substr(0, client_final.rfind(",p="));
  std::string auth = client_first_bare_ + "," + server_first_ + "," + without_proof;
  std::string client_key = Hmac(md, salted, "Client Key");
  unsigned char stored[EVP_MAX_MD_SIZE];
  unsigned int slen = 0;
  EVP_Digest(client_key.data(), client_key.size(), stored, &slen, md, nullptr);
  std::string sig = Hmac(md, std::string(reinterpret_cast<char*>(stored), slen), auth);
  std::string proof = Base64Decode(Attr(client_final, 'p'));
  for (std::size_t i = 0; i < proof.size() && i < sig.size(); ++i) proof[i] = static_cast<char>(proof[i] ^ sig[i]);
  if (proof != client_key) return {};
  return "v=" + Base64Encode(Hmac(md, Hmac(md, salted, "Server Key"), auth));
}

}  // namespace xp::test
