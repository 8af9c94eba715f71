// A scripted XMPP server on 127.0.0.1 for unit tests: each accepted connection runs the
// script in the server's thread. Scripts can misbehave on purpose (garbage, silence, endless
// stanzas) to check that the client times out or fails with the right outcome.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace xp::test {

// A self-signed certificate (and key) for `dns_name`, written to PEM files in a temp dir.
struct TestCert {
  std::string cert_file;
  std::string key_file;
  std::string dir;
  ~TestCert();
};
std::unique_ptr<TestCert> MakeSelfSignedCert(const std::string& dns_name);

class FakeConn {
 public:
  FakeConn(int fd, SSL_CTX* tls) : fd_(fd), tls_(tls) {}
  ~FakeConn();
  // Reads until `needle` is in the buffer; returns everything up to and including it and
  // keeps the rest. Empty string on EOF or after `timeout`.
  std::string ReadUntil(const std::string& needle, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Thread-safe: a router script writes to other connections than its own.
  bool Write(const std::string& data);
  // Whatever arrives within `timeout` (after anything ReadUntil buffered); empty on EOF/timeout.
  std::string ReadSome(std::chrono::milliseconds timeout);
  // Resets the connection from any thread, as a crashing server would.
  void Kill();
  // Server-side handshake with the server's certificate; max_version (TLS1_2_VERSION, ...)
  // caps the protocol, 0 leaves OpenSSL's maximum.
  bool StartTls(int max_version = 0);
  // Channel-binding data as the server computes it: RFC 9266 tls-exporter, RFC 5929
  // tls-server-end-point. Empty before StartTls.
  std::string TlsExporter() const;
  std::string TlsServerEndPoint() const;
  // RFC 5929 tls-unique as ejabberd 23.01 computes it: the client's Finished message.
  std::string TlsUnique() const;
  // Blocks until the peer closes or `timeout` passes.
  void WaitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  int fd() const { return fd_; }

 private:
  int fd_;
  SSL_CTX* tls_;
  SSL* ssl_ = nullptr;
  std::string buffer_;
  std::mutex write_mu_;
};

class FakeServer {
 public:
  using Script = std::function<void(FakeConn&)>;
  // cert: optional; enables FakeConn::StartTls.
  explicit FakeServer(Script script, const TestCert* cert = nullptr);
  ~FakeServer();
  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  void Run();
  Script script_;
  int listen_fd_ = -1;
  int port_ = 0;
  SSL_CTX* tls_ = nullptr;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<std::thread> connections_;  // one thread per accepted connection
};

// A port with nothing listening (bound, then closed again).
int UnusedPort();

// Server side of SCRAM for the fake server; returns the server's reply payloads.
class ScramServer {
 public:
  ScramServer(bool sha256, std::string password) : sha256_(sha256), password_(std::move(password)) {}
  std::string ServerFirst(const std::string& client_first);
  // Empty when the proof or the channel binding does not verify; otherwise "v=..." server-final.
  std::string ServerFinal(const std::string& client_final);
  const std::string& gs2_header() const { return gs2_header_; }

  int iterations = 4096;
  std::string cb_data;        // what "p=<type>" must bind to (this server's view of the channel)
  bool offered_plus = false;  // then a client's "y" flag means a stripped offer: refuse

 private:
  bool sha256_;
  std::string password_;
  std::string gs2_header_;
  std::string client_first_bare_;
  std::string server_first_;
};

}  // namespace xp::test
