// One HTTPS request with a deadline over the XMPP library's Connection (TCP, TLS, the same
// certificate verification as the XMPP streams, named outcomes); Boost.Beast parses the
// reply. For the upload prober's PUT and GET of XEP-0363 slot URLs, which the server hands
// out, so nothing in them is trusted: only https, no CR/LF, bounded reply.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "xmpp/connection.h"

namespace xp {

struct HttpsOptions {
  std::shared_ptr<TlsContext> tls;  // verification settings (ca_file); required
  // host -> address, as curl's --resolve: the connection goes to the address, the certificate
  // is still checked against the URL's host name.
  std::map<std::string, std::string> resolve;
  std::string source_address;
  std::size_t max_body = 1024 * 1024;  // a longer reply body is upload_failed
};

struct HttpsReply {
  int status = 0;
  std::string body;
};

// Throws ProbeError: kTimeout, kDnsError/kDnsTimeout, kCertVerifyFailed, kTlsError as the
// XMPP connection would; kUploadFailed for a refused or broken connection, a URL that is not
// https, and a malformed or oversized reply. Any HTTP status is a reply.
HttpsReply HttpsRequest(const std::string& method, const std::string& url,
                        const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body,
                        const HttpsOptions& options, Deadline deadline);

}  // namespace xp
