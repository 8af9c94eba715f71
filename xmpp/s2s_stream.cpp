#include "s2s_stream.h"

#include "negotiation.h"
#include "outcome.h"

namespace xp {

namespace {

std::string S2sHeader(const std::string& to, const std::string& from) {
  return "<?xml version='1.0'?><stream:stream to='" + XmlEscape(to) + "' from='" + XmlEscape(from) +
         "' xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' xml:lang='en'>";
}

std::string FirstChildName(const Element& e) {
  for (const auto& c : e.children) {
    if (c.name != "text") return c.name;
  }
  return "undefined-condition";
}

}  // namespace

S2sStream::S2sStream(S2sConfig config) : config_(std::move(config)), stream_(config_.limits) {}

void S2sStream::Phase(const char* name, Clock::time_point start) {
  phases_[name] += std::chrono::duration<double>(Clock::now() - start).count();
}

void S2sStream::Send(const std::string& data, Deadline deadline) {
  conn_.Write(data, deadline);
}

// The next top-level element; a stream error or a closed stream ends the negotiation.
Element S2sStream::Next(Deadline deadline, const char* what) {
  for (int reads = 0; reads < 100000; ++reads) {
    if (auto e = stream_.Next()) {
      if (e->Is("error", kNsStreams)) {
        std::string text = e->ChildText("text");
        throw ProbeError(Outcome::kStreamError,
                         "s2s stream error: " + FirstChildName(*e) + (text.empty() ? "" : " (" + text + ")"));
      }
      return std::move(*e);
    }
    if (stream_.closed())
      throw ProbeError(Outcome::kClosed, std::string("remote server closed the s2s stream before ") + what);
    auto data = conn_.Read(deadline);
    if (!data) break;
    bytes_read_ += data->size();
    if (bytes_read_ > config_.max_bytes) {
      conn_.Close();
      throw ProbeError(Outcome::kSessionBudgetExceeded,
                       "remote server sent more than " + std::to_string(config_.max_bytes) + " bytes during s2s setup");
    }
    try {
      stream_.Feed(*data);
    } catch (const ProbeError&) {
      conn_.Close();
      throw;
    }
  }
  throw ProbeError(Outcome::kTimeout, std::string("timed out waiting for ") + what + " on the s2s stream");
}

void S2sStream::Negotiate(Deadline deadline) {
  if (!config_.tls) throw ProbeError(Outcome::kConfigError, "an s2s stream needs a TLS context");
  if (config_.to.empty() || config_.from.empty()) {
    throw ProbeError(Outcome::kConfigError, "an s2s stream needs both domains (to and from)");
  }
  auto [host, port] = SplitHostPort(config_.target, 5269);
  auto t = Clock::now();
  std::vector<Endpoint> endpoints = ResolveBefore(host, port, deadline, config_.resolver);
  Phase("s2s_dns", t);

  t = Clock::now();
  conn_.Connect(endpoints, deadline, config_.source_address);
  Phase("s2s_connect", t);

  t = Clock::now();
  Send(S2sHeader(config_.to, config_.from), deadline);
  Element features = Next(deadline, "stream features");
  if (!features.Is("features", kNsStreams)) {
    throw ProbeError(Outcome::kProtocolError, "expected stream features, got <" + features.name + "/>");
  }
  // Federation in the clear is refused here whatever the remote would allow: the probe
  // measures what a server with s2s_use_starttls: required sees.
  if (!features.Child("starttls", kNsTls)) {
    throw ProbeError(Outcome::kStarttlsMissing, "remote s2s stream offered no STARTTLS");
  }
  Send(std::string(kStartTlsRequest), deadline);
  CheckProceed(Next(deadline, "STARTTLS <proceed/>"));
  Phase("s2s_starttls", t);
  // Nothing read in cleartext survives the handshake (as in XmppClient: CVE-2011-0411).
  stream_.Reset();

  t = Clock::now();
  conn_.StartTls(config_.tls, config_.to, deadline);
  Phase("s2s_tls", t);

  t = Clock::now();
  Send(S2sHeader(config_.to, config_.from), deadline);
  features = Next(deadline, "stream features over TLS");
  if (!features.Is("features", kNsStreams)) {
    throw ProbeError(Outcome::kProtocolError, "expected stream features over TLS, got <" + features.name + "/>");
  }
  Phase("s2s_features", t);
  if (stream_.header().count("from")) remote_from_ = stream_.header().at("from");
  mechanisms_ = OfferedMechanisms(features);
  dialback_ = features.Child("dialback", kNsDialbackFeature) != nullptr;
}

void S2sStream::Close(Deadline deadline) {
  try {
    if (conn_.fd() >= 0) {
      conn_.Write("</stream:stream>", deadline);
      for (int i = 0; i < 100 && !stream_.closed(); ++i) {
        auto data = conn_.Read(deadline);
        if (!data) break;
        stream_.Feed(*data);
        while (stream_.Next()) {
        }
      }
    }
  } catch (const ProbeError&) {
    // Best effort: the result was settled before.
  }
  conn_.Close();
}

}  // namespace xp
