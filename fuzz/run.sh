#!/usr/bin/env bash
# Runs termsim's fuzz targets with cargo-fuzz (libFuzzer; needs the nightly toolchain):
#   bash fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 900 s, every target)
# New inputs go to target/fuzz-corpus/TARGET (not committed); fuzz/corpus/TARGET holds the small
# committed seed corpus. A crash is saved under fuzz/artifacts/TARGET/ and stops that target.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-900}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(scenario trace sweep results check merge serve_request)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
for t in "${targets[@]}"; do
  mkdir -p "target/fuzz-corpus/$t"
  echo "== $t: $seconds s"
  cargo +nightly fuzz run "$t" "target/fuzz-corpus/$t" "fuzz/corpus/$t" -- \
    -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=4096 2>&1 | grep -E "^(#[0-9]+[[:space:]]+DONE|Done|==|SUMMARY|thread|.*panicked)" | tail -n 6
done
