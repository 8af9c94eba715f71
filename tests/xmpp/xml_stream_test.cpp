#include "xmpp/xml_stream.h"

#include <gtest/gtest.h>

#include "xmpp/outcome.h"

namespace xp {
namespace {

const std::string kHeader =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
    "id='s1' from='example.org' version='1.0'>";

Outcome FeedOutcome(XmlStream& s, const std::string& data) {
  try {
    s.Feed(data);
  } catch (const ProbeError& e) {
    return e.outcome();
  }
  return Outcome::kOk;
}

TEST(XmlStream, ParsesHeaderAndStanzasWithNamespaces) {
  XmlStream s;
  s.Feed(kHeader +
         "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
         "</stream:features><message from='a@b' id='1'><body>hi &amp; bye</body></message>");
  EXPECT_TRUE(s.header_seen());
  EXPECT_EQ(s.header().at("id"), "s1");
  auto f = s.Next();
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->Is("features", kNsStreams));
  ASSERT_TRUE(f->Child("starttls", kNsTls));
  EXPECT_TRUE(f->Child("starttls", kNsTls)->Child("required"));
  auto m = s.Next();
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->Is("message", kNsClient));
  EXPECT_EQ(m->Attr("from"), "a@b");
  EXPECT_EQ(m->ChildText("body"), "hi & bye");
  EXPECT_FALSE(s.Next());
}

TEST(XmlStream, ByteAtATimeGivesTheSameResult) {
  std::string doc = kHeader +
                    "<iq type='result' id='x'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>u@d/r</jid>"
                    "</bind></iq> <message><body>\xc3\xa9t\xc3\xa9</body></message></stream:stream>";
  XmlStream s;
  for (char c : doc) s.Feed(std::string(1, c));
  auto iq = s.Next();
  ASSERT_TRUE(iq);
  EXPECT_EQ(iq->Child("bind", kNsBind)->ChildText("jid"), "u@d/r");
  auto m = s.Next();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->ChildText("body"), "\xc3\xa9t\xc3\xa9");
}

TEST(XmlStream, StreamCloseIsSeen) {
  XmlStream s;
  s.Feed(kHeader + "<message/></stream:stream>");
  EXPECT_TRUE(s.Next());
  EXPECT_TRUE(s.closed());
}

TEST(XmlStream, MalformedInputIsProtocolError) {
  for (const std::string& bad : std::vector<std::string>{
           kHeader + "<message><body></message>", kHeader + "<a b='1' b='2'/>", std::string("\x00\x01garbage", 9),
           kHeader + "<message>&unknown;</message>", std::string("HTTP/1.1 400 Bad Request\r\n\r\n")}) {
    XmlStream s;
    EXPECT_EQ(FeedOutcome(s, bad), Outcome::kProtocolError) << bad;
  }
}

TEST(XmlStream, WrongRootIsProtocolError) {
  XmlStream s;
  EXPECT_EQ(FeedOutcome(s, "<html><body>"), Outcome::kProtocolError);
}

TEST(XmlStream, DoctypeAndEntitiesAreRefused) {
  XmlStream s;
  EXPECT_EQ(FeedOutcome(s,
                        "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'><!ENTITY lol2 '&lol;&lol;'>]>"
                        "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>&lol2;"),
            Outcome::kProtocolError);
}

TEST(XmlStream, DeepNestingIsLimitExceeded) {
  StreamLimits limits;
  limits.max_depth = 16;
  XmlStream s(limits);
  std::string deep = kHeader;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  EXPECT_EQ(FeedOutcome(s, deep), Outcome::kLimitExceeded);
}

TEST(XmlStream, NestingJustUnderTheLimitIsFine) {
  StreamLimits limits;
  limits.max_depth = 16;
  XmlStream s(limits);
  std::string doc = kHeader;
  for (int i = 0; i < 15; ++i) doc += "<a>";
  for (int i = 0; i < 15; ++i) doc += "</a>";
  EXPECT_EQ(FeedOutcome(s, doc), Outcome::kOk);
  EXPECT_TRUE(s.Next());
}

// Opens a stanza with `start`, then feeds up to 100 kB of 'x' into it under a 10 kB stanza
// limit: the outcome of the first chunk that is not accepted.
Outcome FeedEndlessStanza(const std::string& start) {
  StreamLimits limits;
  limits.max_stanza_bytes = 10000;
  XmlStream s(limits);
  s.Feed(kHeader + start);
  Outcome o = Outcome::kOk;
  for (int i = 0; i < 100 && o == Outcome::kOk; ++i) o = FeedOutcome(s, std::string(1000, 'x'));
  return o;
}

TEST(XmlStream, OversizedStanzaIsLimitExceeded) {
  EXPECT_EQ(FeedEndlessStanza("<message><body>"), Outcome::kLimitExceeded);
}

TEST(XmlStream, EndlessAttributeValueIsCaughtWithoutCallbacks) {
  EXPECT_EQ(FeedEndlessStanza("<message to='"), Outcome::kLimitExceeded);
}

TEST(XmlStream, ManySmallStanzasStayUnderTheLimit) {
  StreamLimits limits;
  limits.max_stanza_bytes = 1000;
  XmlStream s(limits);
  s.Feed(kHeader);
  for (int i = 0; i < 1000; ++i) {
    s.Feed("<message id='" + std::to_string(i) + "'><body>hello</body></message> ");
    ASSERT_TRUE(s.Next());
  }
}

TEST(XmlStream, StanzaOfTooManyElementsIsLimitExceeded) {
  // 20,000 empty elements are 80 KB on the wire, well under the byte limit, but ~3 MB parsed.
  StreamLimits limits;
  limits.max_stanza_elements = 16384;
  XmlStream s(limits);
  std::string stanza = "<message>";
  for (int i = 0; i < 20000; ++i) stanza += "<a/>";
  Outcome outcome = Outcome::kOk;
  try {
    s.Feed(std::string(kHeader) + stanza + "</message>");
  } catch (const ProbeError& e) {
    outcome = e.outcome();
  }
  EXPECT_EQ(outcome, Outcome::kLimitExceeded);
  // Many elements spread over many stanzas are fine: the count is per stanza.
  XmlStream ok(limits);
  std::string small = "<message>";
  for (int i = 0; i < 1000; ++i) small += "<a/>";
  small += "</message>";
  std::string many;
  for (int i = 0; i < 30; ++i) many += small;
  EXPECT_NO_THROW(ok.Feed(std::string(kHeader) + many));
}

TEST(XmlStream, ResetStartsANewDocument) {
  XmlStream s;
  s.Feed(kHeader + "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  ASSERT_TRUE(s.Next());
  s.Reset();
  EXPECT_FALSE(s.header_seen());
  s.Feed(kHeader + "<stream:features/>");
  EXPECT_TRUE(s.Next());
}

TEST(XmlStream, ErrorIsSticky) {
  XmlStream s;
  EXPECT_EQ(FeedOutcome(s, kHeader + "<a></b>"), Outcome::kProtocolError);
  EXPECT_EQ(FeedOutcome(s, "<c/>"), Outcome::kProtocolError);
}

TEST(XmlEscape, EscapesMarkup) {
  EXPECT_EQ(XmlEscape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&apos;");
}

}  // namespace
}  // namespace xp
