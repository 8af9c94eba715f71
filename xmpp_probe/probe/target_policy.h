// Which targets /probe may aim a module at. A module logs in with real account credentials,
// so a caller who could choose any host:port would both learn the passwords (a server of
// theirs receives the SASL exchange; PLAIN gives the password away, SCRAM an offline-crackable
// proof) and use the probe as a request-forgery tool against the operator's network. The
// daemon therefore connects only to the module's own target or to a host:port matching one
// of the module's `allowed_targets` patterns, and answers 403 to anything else before any
// connection is made.
#pragma once

#include <optional>
#include <string>

#include "probe/config.h"

namespace xp {

// Glob match on "host:port": `*` matches any run of characters except ':' (so "*:5222" does
// not reach a different port through an IPv6 literal), `?` one such character. Host names
// compare case-insensitively.
bool TargetPatternMatches(const std::string& pattern, const std::string& target);

// nullopt when `target` (as the request gave it; empty means the module's own) may be probed
// with `module`; otherwise the reason, fit for a 403 body (names the module and target, never
// a credential).
std::optional<std::string> TargetRefusal(const ModuleConfig& module, const std::string& target);

}  // namespace xp
