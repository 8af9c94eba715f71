#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for a bounded time.
#   xmpp/fuzz/run_fuzz.sh BUILD_DIR [SECONDS]
# Exits 0 when every target ran clean; skips (exit 0 with a message) when clang or
# libFuzzer is missing, since the main build does not need them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: run_fuzz.sh BUILD_DIR [SECONDS]}
seconds=${2:-20}

if ! command -v clang++ >/dev/null; then
  echo "fuzz: SKIPPED - clang++ not installed (package clang, libclang-rt-14-dev)"
  exit 0
fi
if ! echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long){return 0;}' |
     clang++ -x c++ -fsanitize=fuzzer - -o /dev/null 2>/dev/null; then
  echo "fuzz: SKIPPED - libFuzzer runtime missing (package libclang-rt-14-dev)"
  exit 0
fi

cmake -S "$here" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build.log" 2>&1 ||
  { cat "$build.log"; exit 1; }
cmake --build "$build" -j2 >>"$build.log" 2>&1 || { tail -n 40 "$build.log"; exit 1; }

seed_dir="$build/seeds"
mkdir -p "$seed_dir/stream" "$seed_dir/scram" "$seed_dir/negotiation"
printf '\x10<?xml version="1.0"?><stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" version="1.0"><stream:features><mechanisms xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features><message id="1"><body>hi</body></message></stream:stream>' >"$seed_dir/stream/features"
printf 'r=abcdef,s=QSXCR+Q6sek8bf92,i=16' >"$seed_dir/scram/first"
printf 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=' >"$seed_dir/scram/final"
# Mode byte, then a stream: -PLUS offer with XEP-0440 types, a challenge (server-first
# "r=abcdef,s=QSXCR+Q6sek8bf92,i=16"), success, a bind result.
printf '\x0b<stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams"><stream:features><mechanisms xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><mechanism>SCRAM-SHA-256-PLUS</mechanism><mechanism>SCRAM-SHA-256</mechanism></mechanisms><sasl-channel-binding xmlns="urn:xmpp:sasl-cb:0"><channel-binding type="tls-exporter"/></sasl-channel-binding></stream:features><challenge xmlns="urn:ietf:params:xml:ns:xmpp-sasl">cj1hYmNkZWYscz1RU1hDUitRNnNlazhiZjkyLGk9MTY=</challenge><success xmlns="urn:ietf:params:xml:ns:xmpp-sasl">dj1ybUY5cHFWOFM3c3VBb1pXamE0ZEpSa0ZzS1E9</success><iq type="result" id="b"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><jid>a@b/c</jid></bind></iq>' >"$seed_dir/negotiation/login"

status=0
for target in stream scram negotiation; do
  corpus="$build/corpus-$target"
  mkdir -p "$corpus"
  echo "fuzz: fuzz_$target for ${seconds}s"
  if ! "$build/fuzz_$target" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=1024 \
        -print_final_stats=1 "$corpus" "$seed_dir/$target" >"$build/fuzz_$target.log" 2>&1; then
    echo "fuzz: fuzz_$target FAILED"; tail -n 40 "$build/fuzz_$target.log"; status=1
  else
    grep -E 'stat::number_of_executed_units|cov:' "$build/fuzz_$target.log" | tail -n 2
  fi
done
exit $status
