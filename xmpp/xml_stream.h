// The XMPP stream parser: expat underneath, one Element tree per top-level stanza.
//
// XMPP is one endless XML document, so the parser must bound what a peer can make it hold:
// a stanza larger than max_stanza_bytes or nested deeper than max_depth ends the stream with
// kLimitExceeded instead of growing memory, and DTDs/entity declarations (billion laughs,
// external entities) are refused outright, as RFC 6120 section 11.1 requires.
#pragma once

#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xp {

inline constexpr std::string_view kNsStreams = "http://etherx.jabber.org/streams";
inline constexpr std::string_view kNsClient = "jabber:client";
inline constexpr std::string_view kNsTls = "urn:ietf:params:xml:ns:xmpp-tls";
inline constexpr std::string_view kNsSasl = "urn:ietf:params:xml:ns:xmpp-sasl";
inline constexpr std::string_view kNsBind = "urn:ietf:params:xml:ns:xmpp-bind";
inline constexpr std::string_view kNsSession = "urn:ietf:params:xml:ns:xmpp-session";
inline constexpr std::string_view kNsPing = "urn:xmpp:ping";
inline constexpr std::string_view kNsReceipts = "urn:xmpp:receipts";
inline constexpr std::string_view kNsSm = "urn:xmpp:sm:3";
inline constexpr std::string_view kNsMam = "urn:xmpp:mam:2";
inline constexpr std::string_view kNsForward = "urn:xmpp:forward:0";
inline constexpr std::string_view kNsDelay = "urn:xmpp:delay";
inline constexpr std::string_view kNsStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas";

struct Element {
  std::string ns;    // namespace URI ("" when none)
  std::string name;  // local name
  std::vector<std::pair<std::string, std::string>> attrs;
  std::string text;
  std::vector<Element> children;

  bool Is(std::string_view local, std::string_view nspace) const { return name == local && ns == nspace; }
  std::string Attr(std::string_view key) const;
  // First child with that local name (and namespace, when given); nullptr when absent.
  const Element* Child(std::string_view local, std::string_view nspace = {}) const;
  std::string ChildText(std::string_view local, std::string_view nspace = {}) const;
};

struct StreamLimits {
  std::size_t max_stanza_bytes = 256 * 1024;
  int max_depth = 24;  // counted from the stream root (a stanza sits at depth 2)
  // Elements in one stanza. Each costs ~150 bytes parsed for as little as 4 on the wire
  // ("<a/>"), so this, not the byte limit, bounds what one stanza can make us hold (~2.5 MB).
  std::size_t max_stanza_elements = 16384;
};

class XmlStream {
 public:
  explicit XmlStream(StreamLimits limits = {});
  ~XmlStream();
  XmlStream(const XmlStream&) = delete;
  XmlStream& operator=(const XmlStream&) = delete;

  // Parses bytes from the peer; completed stanzas are queued for Next(). Throws ProbeError
  // (kProtocolError for bad XML, kLimitExceeded for size/depth). After a throw the stream is
  // unusable until Reset().
  void Feed(std::string_view data);
  // A new stream begins (after STARTTLS or SASL success): forget the old document.
  void Reset();

  std::optional<Element> Next();
  bool header_seen() const { return header_seen_; }
  bool closed() const { return closed_; }  // </stream:stream> received
  const std::map<std::string, std::string>& header() const { return header_; }

 private:
  struct Parser;
  void FeedChunk(std::string_view chunk);
  void CheckSize(long long index);

  StreamLimits limits_;
  std::unique_ptr<Parser> parser_;
  std::vector<Element> open_;  // elements being built, stanza first
  std::deque<Element> ready_;
  std::map<std::string, std::string> header_;
  bool header_seen_ = false;
  bool closed_ = false;
  int depth_ = 0;
  std::size_t elements_ = 0;  // in the current stanza
  long long boundary_ = 0;    // byte index where the current stanza (or gap) began
  long long fed_ = 0;
  std::string failure_;
  bool limit_hit_ = false;

  friend struct XmlStreamCallbacks;
};

// Heap an element tree takes once parsed, approximately (nodes, strings, vector slack and
// allocator overhead): what byte budgets on held stanzas count, since a stanza of empty child
// elements costs about forty times its size on the wire.
std::size_t Footprint(const Element& e);

// Escapes text for use in element content or a quoted attribute value.
std::string XmlEscape(std::string_view text);

}  // namespace xp
