// One-shot probe modules. Each lives in its own file (module_<prober>.cpp) and fills a
// ProbeResult; RunProbe times it and turns exceptions into outcomes.
#pragma once

#include <map>
#include <string>

#include "probe/config.h"
#include "probe/result.h"
#include "xmpp/xmpp_client.h"

namespace xp {

ProbeResult RunProbe(const ModuleConfig& module, const std::string& target);

// A one-shot prober: connects, does its part, fills `r`; throws ProbeError with an outcome.
using Prober = void (*)(const ModuleConfig& m, const std::string& target, Deadline deadline, ProbeResult& r);
// The one-shot probers by the name a module's `prober:` selects (blackbox_exporter's pattern).
// `failover` is not among them: it runs continuously (daemon) or as a drill.
const std::map<std::string, Prober>& OneShotProbers();
// Every name a module may use as `prober:`.
bool IsKnownProber(const std::string& name);

void ProbeC2s(const ModuleConfig& m, const std::string& target, Deadline deadline, ProbeResult& r);
void ProbeLogin(const ModuleConfig& m, const std::string& target, Deadline deadline, ProbeResult& r);
void ProbeMessage(const ModuleConfig& m, const std::string& target, Deadline deadline, ProbeResult& r);
void ProbeOffline(const ModuleConfig& m, const std::string& target, Deadline deadline, ProbeResult& r);
void ProbeMam(const ModuleConfig& m, const std::string& target, Deadline deadline, ProbeResult& r);
void ProbeMuc(const ModuleConfig& m, const std::string& target, Deadline deadline, ProbeResult& r);
void ProbeUpload(const ModuleConfig& m, const std::string& target, Deadline deadline, ProbeResult& r);
void ProbePush(const ModuleConfig& m, const std::string& target, Deadline deadline, ProbeResult& r);
void ProbeCarbons(const ModuleConfig& m, const std::string& target, Deadline deadline, ProbeResult& r);
void ProbeS2s(const ModuleConfig& m, const std::string& target, Deadline deadline, ProbeResult& r);

// Shared by the modules: TLS/certificate and feature metrics of a connected client.
void AddConnectionMetrics(const XmppClient& client, ProbeResult& r);
// A token unique to this process and call, for message ids and bodies.
std::string UniqueToken(const char* prefix);
double SecondsSince(Clock::time_point start);

}  // namespace xp
