// Google Benchmark: the probe's hot paths in load mode (stream parsing, SCRAM).
#include <benchmark/benchmark.h>

#include "xmpp/scram.h"
#include "xmpp/xml_stream.h"

namespace {

const std::string kHeader =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
    "id='s1' from='xmpp.test' version='1.0'>";
const std::string kMessage =
    "<message from='load1@xmpp.test/l0' to='load2@xmpp.test/l1' type='chat' id='m1'><body>ld 1234567890123</body>"
    "<request xmlns='urn:xmpp:receipts'/></message>";

void BM_ParseMessages(benchmark::State& state) {
  xp::XmlStream stream;
  stream.Feed(kHeader);
  std::string batch;
  for (int i = 0; i < 100; ++i) batch += kMessage;
  for (auto _ : state) {
    stream.Feed(batch);
    while (auto e = stream.Next()) benchmark::DoNotOptimize(e->name);
  }
  state.SetItemsProcessed(state.iterations() * 100);
  state.SetBytesProcessed(state.iterations() * static_cast<long>(batch.size()));
}
BENCHMARK(BM_ParseMessages);

void BM_ScramSha256Full(benchmark::State& state) {
  xp::ScramClient::EnableSaltedPasswordCache(state.range(0) != 0);
  for (auto _ : state) {
    xp::ScramClient c(xp::ScramHash::kSha256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO");
    c.ClientFirst();
    benchmark::DoNotOptimize(
        c.ClientFinal("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"));
  }
  xp::ScramClient::EnableSaltedPasswordCache(false);
}
BENCHMARK(BM_ScramSha256Full)->Arg(0)->Arg(1)->ArgNames({"cached"});

}  // namespace

BENCHMARK_MAIN();
