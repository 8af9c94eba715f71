#include "xml_stream.h"

#include <expat.h>

#include "outcome.h"

namespace xp {

namespace {
constexpr char kNsSep = ' ';  // cannot occur in a namespace URI
constexpr std::size_t kChunk = 4096;

std::pair<std::string, std::string> SplitName(const XML_Char* raw) {
  std::string_view name(raw);
  auto pos = name.rfind(kNsSep);
  if (pos == std::string_view::npos) return {"", std::string(name)};
  return {std::string(name.substr(0, pos)), std::string(name.substr(pos + 1))};
}
}  // namespace

struct XmlStream::Parser {
  XML_Parser p;
  Parser() : p(XML_ParserCreateNS("UTF-8", kNsSep)) {}
  ~Parser() {
    if (p) XML_ParserFree(p);
  }
};

struct XmlStreamCallbacks {
  static XmlStream& Self(void* data) { return *static_cast<XmlStream*>(data); }

  static void Fail(XmlStream& s, std::string why, bool limit) {
    if (s.failure_.empty()) {
      s.failure_ = std::move(why);
      s.limit_hit_ = limit;
    }
    XML_StopParser(s.parser_->p, XML_FALSE);
  }

  static void Start(void* data, const XML_Char* name, const XML_Char** attrs) {
    XmlStream& s = Self(data);
    if (!s.failure_.empty()) return;
    ++s.depth_;
    if (s.depth_ > s.limits_.max_depth) {
      Fail(s, "element nesting deeper than " + std::to_string(s.limits_.max_depth), true);
      return;
    }
    auto [ns, local] = SplitName(name);
    if (s.depth_ == 1) {
      if (!(local == "stream" && ns == kNsStreams)) {
        Fail(s, "stream root is <" + local + "> in '" + ns + "', not <stream:stream>", false);
        return;
      }
      s.header_.clear();
      for (int i = 0; attrs[i]; i += 2) s.header_[SplitName(attrs[i]).second] = attrs[i + 1];
      s.header_seen_ = true;
      s.boundary_ = XML_GetCurrentByteIndex(s.parser_->p) + XML_GetCurrentByteCount(s.parser_->p);
      return;
    }
    if (s.depth_ == 2) {
      s.boundary_ = XML_GetCurrentByteIndex(s.parser_->p);
      s.elements_ = 0;
    }
    if (++s.elements_ > s.limits_.max_stanza_elements) {
      Fail(s, "stanza with more than " + std::to_string(s.limits_.max_stanza_elements) + " elements", true);
      return;
    }
    s.CheckSize(XML_GetCurrentByteIndex(s.parser_->p));
    Element e;
    e.ns = std::move(ns);
    e.name = std::move(local);
    for (int i = 0; attrs[i]; i += 2) e.attrs.emplace_back(SplitName(attrs[i]).second, attrs[i + 1]);
    s.open_.push_back(std::move(e));
  }

  static void End(void* data, const XML_Char*) {
    XmlStream& s = Self(data);
    if (!s.failure_.empty()) return;
    if (s.depth_ == 1) {
      s.closed_ = true;
      --s.depth_;
      return;
    }
    --s.depth_;
    if (s.open_.empty()) return;
    Element done = std::move(s.open_.back());
    s.open_.pop_back();
    if (s.open_.empty()) {
      s.ready_.push_back(std::move(done));
      s.boundary_ = XML_GetCurrentByteIndex(s.parser_->p) + XML_GetCurrentByteCount(s.parser_->p);
    } else {
      s.open_.back().children.push_back(std::move(done));
    }
  }

  static void Text(void* data, const XML_Char* text, int len) {
    XmlStream& s = Self(data);
    if (!s.failure_.empty()) return;
    if (s.open_.empty()) {
      // Whitespace keepalives between stanzas: each one is a fresh boundary.
      s.boundary_ = XML_GetCurrentByteIndex(s.parser_->p) + len;
      return;
    }
    s.CheckSize(XML_GetCurrentByteIndex(s.parser_->p) + len);
    if (s.failure_.empty()) s.open_.back().text.append(text, static_cast<std::size_t>(len));
  }

  static void Doctype(void* data, const XML_Char*, const XML_Char*, const XML_Char*, int) {
    Fail(Self(data), "DTD in stream (forbidden by RFC 6120)", false);
  }

  static void Entity(void* data, const XML_Char*, int, const XML_Char*, int, const XML_Char*, const XML_Char*,
                     const XML_Char*, const XML_Char*) {
    Fail(Self(data), "entity declaration in stream", false);
  }
};

XmlStream::XmlStream(StreamLimits limits) : limits_(limits) {
  Reset();
}
XmlStream::~XmlStream() = default;

void XmlStream::Reset() {
  parser_ = std::make_unique<Parser>();
  XML_Parser p = parser_->p;
  XML_SetUserData(p, this);
  XML_SetElementHandler(p, &XmlStreamCallbacks::Start, &XmlStreamCallbacks::End);
  XML_SetCharacterDataHandler(p, &XmlStreamCallbacks::Text);
  XML_SetStartDoctypeDeclHandler(p, &XmlStreamCallbacks::Doctype);
  XML_SetEntityDeclHandler(p, &XmlStreamCallbacks::Entity);
  XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
  open_.clear();
  ready_.clear();
  header_.clear();
  header_seen_ = false;
  closed_ = false;
  depth_ = 0;
  elements_ = 0;
  boundary_ = 0;
  fed_ = 0;
  failure_.clear();
  limit_hit_ = false;
}

void XmlStream::CheckSize(long long index) {
  if (index - boundary_ > static_cast<long long>(limits_.max_stanza_bytes) && failure_.empty()) {
    XmlStreamCallbacks::Fail(*this, "stanza larger than " + std::to_string(limits_.max_stanza_bytes) + " bytes", true);
  }
}

void XmlStream::Feed(std::string_view data) {
  // Small chunks bound what expat buffers for a token that never ends (an endless attribute
  // value produces no callback, so only the byte count since the last boundary can catch it).
  while (!data.empty()) {
    std::string_view chunk = data.substr(0, kChunk);
    data.remove_prefix(chunk.size());
    FeedChunk(chunk);
  }
}

void XmlStream::FeedChunk(std::string_view chunk) {
  if (!failure_.empty()) throw ProbeError(limit_hit_ ? Outcome::kLimitExceeded : Outcome::kProtocolError, failure_);
  if (closed_) {
    // Bytes after </stream:stream> are the peer's problem; expat would call them junk anyway.
    return;
  }
  fed_ += static_cast<long long>(chunk.size());
  XML_Status status = XML_Parse(parser_->p, chunk.data(), static_cast<int>(chunk.size()), XML_FALSE);
  if (status == XML_STATUS_ERROR && failure_.empty()) {
    XML_Error code = XML_GetErrorCode(parser_->p);
    if (!(closed_ && code == XML_ERROR_JUNK_AFTER_DOC_ELEMENT)) {
      failure_ = std::string("malformed XML: ") + XML_ErrorString(code) + " at byte " +
                 std::to_string(XML_GetCurrentByteIndex(parser_->p));
    }
  }
  if (failure_.empty() && fed_ - boundary_ > static_cast<long long>(limits_.max_stanza_bytes)) {
    failure_ = "stanza larger than " + std::to_string(limits_.max_stanza_bytes) + " bytes";
    limit_hit_ = true;
  }
  if (!failure_.empty()) throw ProbeError(limit_hit_ ? Outcome::kLimitExceeded : Outcome::kProtocolError, failure_);
}

std::optional<Element> XmlStream::Next() {
  if (ready_.empty()) return std::nullopt;
  Element e = std::move(ready_.front());
  ready_.pop_front();
  return e;
}

std::string Element::Attr(std::string_view key) const {
  for (const auto& [k, v] : attrs) {
    if (k == key) return v;
  }
  return {};
}

const Element* Element::Child(std::string_view local, std::string_view nspace) const {
  for (const auto& c : children) {
    if (c.name == local && (nspace.empty() || c.ns == nspace)) return &c;
  }
  return nullptr;
}

std::string Element::ChildText(std::string_view local, std::string_view nspace) const {
  const Element* c = Child(local, nspace);
  return c ? c->text : std::string();
}

namespace {
constexpr std::size_t kMallocOverhead = 16;
std::size_t StringHeap(const std::string& s) {
  return s.capacity() > 15 ? s.capacity() + 1 + kMallocOverhead : 0;  // past the SSO buffer
}
}  // namespace

std::size_t Footprint(const Element& e) {
  std::size_t n = sizeof(Element) + StringHeap(e.ns) + StringHeap(e.name) + StringHeap(e.text);
  if (e.attrs.capacity() > 0) n += e.attrs.capacity() * sizeof(e.attrs[0]) + kMallocOverhead;
  for (const auto& [k, v] : e.attrs) n += StringHeap(k) + StringHeap(v);
  if (e.children.capacity() > 0) n += (e.children.capacity() - e.children.size()) * sizeof(Element) + kMallocOverhead;
  for (const auto& c : e.children) n += Footprint(c);
  return n;
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace xp
