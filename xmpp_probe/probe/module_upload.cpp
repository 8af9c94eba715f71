// upload: sharing a file (XEP-0363) end to end. The account discovers the upload service
// (disco#items of its domain, disco#info of each), asks it for a slot for a small random
// payload, PUTs the bytes to the slot's HTTPS URL and GETs them back: what the sender's app
// and then the recipient's app do. Certificates are verified against the URLs' host names
// (module ca_file); `upload.resolve` stands in for DNS where there is none.
#include <random>

#include "probe/disco.h"
#include "probe/https_fetch.h"
#include "probe/modules.h"

namespace xp {

namespace {

constexpr std::string_view kNsUpload = "urn:xmpp:http:upload:0";

std::string RandomPayload(std::size_t n) {
  std::random_device seed;
  std::mt19937_64 gen(seed());
  std::string s(n, '\0');
  for (auto& ch : s) ch = static_cast<char>(gen() & 0xff);
  return s;
}

}  // namespace

void ProbeUpload(const ModuleConfig& m, const std::string& target, Deadline deadline, ProbeResult& r) {
  XmppClient client(MakeClientConfig(m, m.account, target, UniqueToken("probe-upload")));
  client.Login(deadline);
  r.phases = client.phases();
  AddConnectionMetrics(client, r);

  auto t = Clock::now();
  const std::string service =
      FindService(client, client.config().domain, std::string(kNsUpload), deadline, "HTTP upload");
  r.phases["discover"] = SecondsSince(t);

  const std::string payload = RandomPayload(m.upload.payload_bytes);
  const std::string filename = UniqueToken("xmpp_probe") + ".bin";
  t = Clock::now();
  Element reply =
      client.Iq("get", service,
                "<request xmlns='" + std::string(kNsUpload) + "' filename='" + XmlEscape(filename) + "' size='" +
                    std::to_string(payload.size()) + "' content-type='application/octet-stream'/>",
                deadline, "the upload slot");
  ExpectResult(reply, "upload slot request to " + service);
  const Element* slot = reply.Child("slot", kNsUpload);
  const Element* put = slot ? slot->Child("put") : nullptr;
  const Element* get = slot ? slot->Child("get") : nullptr;
  if (!put || !get || put->Attr("url").empty() || get->Attr("url").empty()) {
    throw ProbeError(Outcome::kProtocolError, "the slot from " + service + " has no put or get URL");
  }
  // XEP-0363 allows the service exactly these headers on the PUT; anything else is dropped.
  std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", "application/octet-stream"}};
  for (const auto& h : put->children) {
    const std::string name = h.Attr("name");
    if (h.name == "header" && (name == "Authorization" || name == "Cookie" || name == "Expires")) {
      headers.emplace_back(name, h.text);
    }
  }
  r.phases["slot"] = SecondsSince(t);
  client.Close(std::min(deadline, Clock::now() + std::chrono::milliseconds(500)));

  HttpsOptions http;
  // The XMPP stream's verification settings, whatever its own TLS mode.
  TlsOptions tls;
  tls.ca_file = m.xmpp.ca_file;
  tls.insecure = m.xmpp.insecure_skip_verify;
  http.tls = std::make_shared<TlsContext>(tls);
  http.resolve = m.upload.resolve;
  http.source_address = m.xmpp.source_address;
  http.max_body = payload.size() + 4096;

  t = Clock::now();
  HttpsReply put_reply = HttpsRequest("PUT", put->Attr("url"), headers, payload, http, deadline);
  if (put_reply.status != 200 && put_reply.status != 201) {
    throw ProbeError(Outcome::kUploadFailed, "PUT " + put->Attr("url") + ": HTTP " + std::to_string(put_reply.status));
  }
  r.phases["put"] = SecondsSince(t);

  t = Clock::now();
  HttpsReply get_reply = HttpsRequest("GET", get->Attr("url"), {}, "", http, deadline);
  if (get_reply.status != 200) {
    throw ProbeError(Outcome::kUploadFailed, "GET " + get->Attr("url") + ": HTTP " + std::to_string(get_reply.status));
  }
  if (get_reply.body != payload) {
    throw ProbeError(Outcome::kUploadFailed, "GET " + get->Attr("url") + ": " + std::to_string(get_reply.body.size()) +
                                                 " bytes came back, not the " + std::to_string(payload.size()) +
                                                 " uploaded");
  }
  r.phases["get"] = SecondsSince(t);
  r.Add("probe_xmpp_upload_bytes", "Size of the payload uploaded and read back.", static_cast<double>(payload.size()));
}

}  // namespace xp
