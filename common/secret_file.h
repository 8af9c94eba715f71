// Reading a secret (a password, a webhook URL with a token in it) from a file, so it never
// has to appear on a command line, where every local user can read it in /proc.
#pragma once

#include <string>

#include "web_config.h"  // ConfigError

namespace xw {

enum class SecretFileMode {
  kAnyMode,    // the owner decides (a password file a launcher shares with a group)
  kOwnerOnly,  // refused when group or others may read or write it (chmod 600)
};

// Returns the first line of the file without its line ending and trailing blanks. Throws
// ConfigError naming the file (never its content) when it is missing, not a regular file,
// empty, larger than 64 KiB, or (kOwnerOnly) open to group or others.
std::string ReadSecretFile(const std::string& path, SecretFileMode mode = SecretFileMode::kAnyMode);

}  // namespace xw
