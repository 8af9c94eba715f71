// A throw-away self-signed certificate for 127.0.0.1, made with the openssl CLI.
#pragma once

#include <filesystem>
#include <string>

namespace xw::testing {

struct TlsFiles {
  std::filesystem::path dir, cert, key;
  TlsFiles();  // throws std::runtime_error if openssl fails
  ~TlsFiles();
  TlsFiles(const TlsFiles&) = delete;
  TlsFiles& operator=(const TlsFiles&) = delete;
};

}  // namespace xw::testing
