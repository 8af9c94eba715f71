#include "tls_files.h"

#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

namespace xw::testing {

TlsFiles::TlsFiles() {
  static int counter = 0;
  dir = std::filesystem::temp_directory_path() /
        ("xw-tls-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::create_directories(dir);
  cert = dir / "cert.pem";
  key = dir / "key.pem";
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2"
      " -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
      key.string() + " -out " + cert.string() + " >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl could not make a test certificate");
}

TlsFiles::~TlsFiles() {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace xw::testing
