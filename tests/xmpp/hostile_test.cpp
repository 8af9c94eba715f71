// Issue 16's hostile cases against the client: floods before and after TLS (bounded memory,
// a budget outcome), STARTTLS injection, weak SCRAM, channel binding and a resolver that never
// answers. Memory is asserted as RSS growth, never durations: these machines are noisy.
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>

#include "fake_server.h"
#include "login_script.h"
#include "xmpp/outcome.h"
#include "xmpp/xmpp_client.h"

namespace xp {
namespace {

using namespace std::chrono_literals;
using test::FakeConn;
using test::FakeServer;
using test::kClientHeaderEnd;
using test::kHeader;
using test::LoginScript;

constexpr std::size_t kFloodBytes = 50u << 20;

std::size_t RssBytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

// Peak RSS since the last ResetPeakRss(): the flood's worst moment, not what is left after the
// client let go (VmHWM, reset through clear_refs, Linux 4.0+). 0 when unavailable.
void ResetPeakRss() {
  std::ofstream("/proc/self/clear_refs") << "5";
}
std::size_t PeakRssBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

// About 2 KB on the wire that parse into 500 elements: the costliest shape per byte.
std::string FloodStanza() {
  std::string s = "<message xmlns='jabber:client' from='flood@good.example' type='chat'>";
  for (int i = 0; i < 500; ++i) s += "<a/>";
  return s + "</message>";
}

// Writes kFloodBytes of unsolicited stanzas, or until the client closes.
void Flood(FakeConn& c) {
  std::string batch;
  for (int i = 0; i < 32; ++i) batch += FloodStanza();
  for (std::size_t sent = 0; sent < kFloodBytes; sent += batch.size()) {
    if (!c.Write(batch)) return;
  }
  c.WaitClosed(10s);
}

struct Result {
  Outcome outcome = Outcome::kOk;
  std::string detail;
  std::size_t rss_growth = 0;  // peak during the session, over RSS before it
};

// Logs in (and pings) with the client alive while RSS is read: what it holds is counted.
Result LoginAndPing(ClientConfig cfg, std::chrono::seconds timeout = 20s) {
  Result r;
  ResetPeakRss();
  std::size_t before = RssBytes();
  XmppClient client(std::move(cfg));
  try {
    client.Login(Clock::now() + timeout);
    client.Ping(Clock::now() + timeout);
  } catch (const ProbeError& e) {
    r.outcome = e.outcome();
    r.detail = e.what();
  }
  std::size_t after = std::max(RssBytes(), PeakRssBytes());
  r.rss_growth = after > before ? after - before : 0;
  std::fprintf(stderr, "[ figures ] outcome %s, peak RSS growth %.1f MiB (%s)\n",
               std::string(OutcomeName(r.outcome)).c_str(), static_cast<double>(r.rss_growth) / (1 << 20),
               r.detail.c_str());
  return r;
}

class Hardened : public ::testing::Test {
 protected:
  std::unique_ptr<test::TestCert> cert_ = test::MakeSelfSignedCert("good.example");
  ClientConfig TlsConfig(const std::string& target, TlsMode mode = TlsMode::kStarttls) {
    auto cfg = test::PlainClientConfig(target);
    cfg.tls_mode = mode;
    cfg.tls = std::make_shared<TlsContext>(TlsOptions{cert_->cert_file});
    return cfg;
  }
};

TEST_F(Hardened, FloodBeforeTlsEndsWithBudgetAndBoundedMemory) {
  FakeServer server([](FakeConn& c) {
    if (c.ReadUntil(kClientHeaderEnd).empty()) return;
    c.Write(kHeader);  // no features, ever: only stanzas nobody asked for
    Flood(c);
  });
  Result r = LoginAndPing(TlsConfig(server.target()));
  EXPECT_EQ(r.outcome, Outcome::kBacklogBudgetExceeded) << r.detail;
  EXPECT_LT(r.rss_growth, 32u << 20);
}

TEST_F(Hardened, FloodOfSmallStanzasBeforeLoginEndsWithTheLoginBudget) {
  // Cheap to hold (a few hundred bytes each), so the bytes read run out first.
  FakeServer server([](FakeConn& c) {
    if (c.ReadUntil(kClientHeaderEnd).empty()) return;
    c.Write(kHeader);
    std::string batch;
    for (int i = 0; i < 512; ++i) batch += "<message xmlns='jabber:client'><body>flood</body></message>";
    for (std::size_t sent = 0; sent < kFloodBytes && c.Write(batch); sent += batch.size()) {
    }
    c.WaitClosed(10s);
  });
  Result r = LoginAndPing(TlsConfig(server.target()));
  EXPECT_EQ(r.outcome, Outcome::kSessionBudgetExceeded) << r.detail;
  EXPECT_LT(r.rss_growth, 32u << 20);
}

TEST_F(Hardened, FloodAfterTlsEndsWithBacklogBudgetAndBoundedMemory) {
  LoginScript script;
  script.tls = LoginScript::Tls::kStarttls;
  script.after_auth = [](FakeConn& c, const std::string&) {
    std::string bind = c.ReadUntil("</iq>");
    c.Write("<iq type='result' id='" + test::Between(bind, "id='", "'") +
            "'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>probe@good.example/r1</jid></bind></iq>");
    Flood(c);  // the ping is never answered
  };
  FakeServer server(script, cert_.get());
  Result r = LoginAndPing(TlsConfig(server.target()));
  EXPECT_EQ(r.outcome, Outcome::kBacklogBudgetExceeded) << r.detail;
  EXPECT_LT(r.rss_growth, 32u << 20);
}

TEST_F(Hardened, SessionByteBudgetHoldsWhileStanzasAreConsumed) {
  LoginScript script;
  script.after_auth = [](FakeConn& c, const std::string&) {
    std::string bind = c.ReadUntil("</iq>");
    c.Write("<iq type='result' id='" + test::Between(bind, "id='", "'") +
            "'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>probe@good.example/r1</jid></bind></iq>");
    std::string batch;
    for (int i = 0; i < 64; ++i)
      batch += "<message xmlns='jabber:client' from='x@good.example'><body>hi</body></message>";
    for (int i = 0; i < 4096 && c.Write(batch); ++i) {
    }
    c.WaitClosed(10s);
  };
  FakeServer server(script);
  auto cfg = test::PlainClientConfig(server.target());
  cfg.budgets.session_bytes = 1 << 20;
  XmppClient client(cfg);
  Outcome outcome = Outcome::kOk;
  try {
    client.Login(Clock::now() + 20s);
    for (int i = 0; i < 1000000; ++i) {
      if (!client.Receive(Clock::now() + 20s)) break;
    }
  } catch (const ProbeError& e) {
    outcome = e.outcome();
  }
  EXPECT_EQ(outcome, Outcome::kSessionBudgetExceeded);
}

TEST_F(Hardened, NothingSentBeforeTlsIsInterpretedAfterIt) {
  LoginScript script;
  script.tls = LoginScript::Tls::kStarttls;
  // Features that would make the client give up on SCRAM, and a message; all in cleartext,
  // the message in the very segment that carries <proceed/>.
  script.before_proceed =
      "<message xmlns='jabber:client' from='evil@good.example'><body>pre</body></message>"
      "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>X-EVIL</mechanism>"
      "</mechanisms></stream:features>";
  script.after_proceed = "<message xmlns='jabber:client' from='evil@good.example'><body>post</body></message>";
  FakeServer server(script, cert_.get());
  XmppClient client(TlsConfig(server.target()));
  ASSERT_NO_THROW(client.Login(Clock::now() + 10s));
  EXPECT_EQ(client.mechanism_used(), "SCRAM-SHA-256");
  auto e = client.Receive(Clock::now() + 300ms);
  EXPECT_FALSE(e.has_value()) << "injected stanza from " << (e ? e->Attr("from") : "");
}

TEST_F(Hardened, ScramIterationCountOfOneIsRefused) {
  LoginScript script;
  script.iterations = 1;
  FakeServer server(script);
  Result r = LoginAndPing(test::PlainClientConfig(server.target()), 5s);
  EXPECT_EQ(r.outcome, Outcome::kScramIterationsTooLow) << r.detail;
}

TEST_F(Hardened, ScramPlusWithTlsExporterWhenOffered) {
  LoginScript script;
  script.tls = LoginScript::Tls::kStarttls;
  script.plus = true;
  script.cb_types = {"tls-server-end-point", "tls-exporter"};
  FakeServer server(script, cert_.get());
  Result r = LoginAndPing(TlsConfig(server.target()), 10s);
  EXPECT_EQ(r.outcome, Outcome::kOk) << r.detail;
  EXPECT_EQ(*script.seen, "SCRAM-SHA-256-PLUS p=tls-exporter,,");
}

TEST_F(Hardened, ScramPlusWithServerEndPointBelowTls13) {
  LoginScript script;
  script.tls = LoginScript::Tls::kDirect;
  script.plus = true;
  script.tls_max_version = TLS1_2_VERSION;
  script.cb_types = {"tls-exporter", "tls-server-end-point"};  // no exporter below TLS 1.3
  FakeServer server(script, cert_.get());
  Result r = LoginAndPing(TlsConfig(server.target(), TlsMode::kDirect), 10s);
  EXPECT_EQ(r.outcome, Outcome::kOk) << r.detail;
  EXPECT_EQ(*script.seen, "SCRAM-SHA-256-PLUS p=tls-server-end-point,,");
}

TEST_F(Hardened, ScramPlusWithTlsUniqueWhenTypesAreNotAdvertised) {
  // ejabberd 23.01 offers -PLUS without XEP-0440 and binds to tls-unique, RFC 5802's default.
  LoginScript script;
  script.tls = LoginScript::Tls::kStarttls;
  script.plus = true;
  FakeServer server(script, cert_.get());
  Result r = LoginAndPing(TlsConfig(server.target()), 10s);
  EXPECT_EQ(r.outcome, Outcome::kOk) << r.detail;
  EXPECT_EQ(*script.seen, "SCRAM-SHA-256-PLUS p=tls-unique,,");
}

TEST_F(Hardened, PlusOfferedButNoCommonBindingIsNotASilentDowngrade) {
  // Only a type we do not implement: the client falls back to SCRAM-SHA-256 but says 'y', so
  // the server (which offered -PLUS) can tell and refuse.
  LoginScript script;
  script.tls = LoginScript::Tls::kStarttls;
  script.plus = true;
  script.cb_types = {"tls-made-up"};
  FakeServer server(script, cert_.get());
  EXPECT_EQ(LoginAndPing(TlsConfig(server.target()), 10s).outcome, Outcome::kAuthFailed);
  EXPECT_EQ(*script.seen, "SCRAM-SHA-256 y,,");
}

TEST_F(Hardened, TlsWithoutPlusOfferSaysClientCouldBind) {
  // A stripped -PLUS offer must be detectable by the server: the client says 'y', never 'n'.
  LoginScript script;
  script.tls = LoginScript::Tls::kStarttls;
  FakeServer server(script, cert_.get());
  Result r = LoginAndPing(TlsConfig(server.target()), 10s);
  EXPECT_EQ(r.outcome, Outcome::kOk) << r.detail;
  EXPECT_EQ(*script.seen, "SCRAM-SHA-256 y,,");
}

TEST_F(Hardened, PlainTcpHasNoChannelToBind) {
  LoginScript script;
  FakeServer server(script);
  EXPECT_EQ(LoginAndPing(test::PlainClientConfig(server.target()), 10s).outcome, Outcome::kOk);
  EXPECT_EQ(*script.seen, "SCRAM-SHA-256 n,,");
}

// A resolver that answers only when released, like a DNS server that drops the query.
struct StuckResolver {
  std::mutex mu;
  std::condition_variable cv;
  bool released = false;
  void Release() {
    std::lock_guard lock(mu);
    released = true;
    cv.notify_all();
  }
};

TEST_F(Hardened, ResolverThatNeverAnswersEndsAtTheDeadline) {
  auto stuck = std::make_shared<StuckResolver>();
  auto cfg = test::PlainClientConfig("127.0.0.1:" + std::to_string(test::UnusedPort()));
  // Captured by value: the helper thread may outlive this test.
  cfg.resolver = [stuck](const std::string&, int) -> std::vector<Endpoint> {
    std::unique_lock lock(stuck->mu);
    stuck->cv.wait(lock, [&] { return stuck->released; });
    throw ProbeError(Outcome::kDnsError, "released");
  };
  XmppClient client(cfg);
  Outcome outcome = Outcome::kOk;
  try {
    client.Connect(Clock::now() + 300ms);
  } catch (const ProbeError& e) {
    outcome = e.outcome();
  }
  stuck->Release();
  EXPECT_EQ(outcome, Outcome::kDnsTimeout);
}

}  // namespace
}  // namespace xp
