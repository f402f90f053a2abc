#!/usr/bin/env bash
# The mutation study: builds termsim once per patch in tests/random/mutants/ (a plausible bug
# each) and runs the random-scenario checker against that mutant; prints the rules that caught it.
#   bash tests/random/mutants.sh [CASES] [PATCH...]      (default: 300 cases, every patch)
# A mutant no rule catches is reported as SURVIVED. Work goes to target/mutants/.
set -euo pipefail
cd "$(dirname "$0")/../.."
cases=${1:-300}
shift || true
patches=("$@")
[ ${#patches[@]} -gt 0 ] || patches=(tests/random/mutants/*.patch)
work=$PWD/target/mutants
mkdir -p "$work/bin" "$work/logs"
cargo build --release --tests --quiet
for patch in "${patches[@]}"; do
  name=$(basename "$patch" .patch)
  rm -rf "$work/tree" && mkdir -p "$work/tree"
  cp -r Cargo.toml Cargo.lock src benches assets scenarios "$work/tree/"
  (cd "$work/tree" && patch -s -p1 < "$OLDPWD/$patch")
  (cd "$work/tree" && CARGO_TARGET_DIR="$work/build" cargo build --release --quiet --bin termsim)
  cp "$work/build/release/termsim" "$work/bin/$name"
  log="$work/logs/$name.log"
  TERMSIM_BIN="$work/bin/$name" TERMSIM_RANDOM_CASES=$cases TERMSIM_RANDOM_SHRINK=0 \
    cargo test --release --quiet --test random generated >"$log" 2>&1 || true
  caught=$(grep -oE '^seed-[0-9]+-case-[0-9]+' "$log" | sort -u | wc -l || true)
  rules=$(grep -oE '^(seed-[0-9]+-case-[0-9]+: |    )\[[a-z-]+\]' "$log" | grep -oE '\[[a-z-]+\]' | sort | uniq -c | sort -rn | awk '{printf "%s×%s ", $2, $1}' || true)
  if grep -q "test result: ok" "$log"; then
    echo "$name: SURVIVED $cases cases"
  else
    echo "$name: caught in $caught of $cases cases by $rules"
  fi
done
