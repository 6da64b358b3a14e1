#!/usr/bin/env bash
# Fuzz smoke for `make test`: builds every cargo-fuzz target once, without
# optimisation (stable Rust: no sanitizer; debug assertions and overflow
# checks on) and runs
# each for a few seconds on its committed corpus (fuzz/corpus/<target>).
# Fails on any crash, timeout (-timeout) or out-of-memory (-rss_limit_mb);
# the input that did it is left in fuzz/artifacts/<target>/.
#   FUZZ_SMOKE_SECS   seconds per target (default 5)
#   FUZZ_TARGET_DIR   cargo target directory (default fuzz/target)
# Long runs: benches/fuzz.sh.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs=${FUZZ_SMOKE_SECS:-5}
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-$PWD/target}
start=$SECONDS
# Unoptimised (--dev): five seconds of fuzzing need coverage, not speed,
# and an optimised instrumented build of geoplan and its dependencies took
# 17-25 min on a loaded 2-core machine.
cargo fuzz build --sanitizer none --dev
built=$((SECONDS - start))
bin="$CARGO_TARGET_DIR/$(rustc -vV | sed -n 's/^host: //p')/debug"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=()
for t in $(cargo fuzz list); do
  mkdir -p "$work/$t" "artifacts/$t"
  dict=()
  case $t in
    wfs_transaction) dict=(-dict=dict/wfs_xml.dict) ;;
    *) [ -f "dict/$t.dict" ] && dict=(-dict="dict/$t.dict") ;;
  esac
  # New inputs go to the scratch directory (first); the committed corpus
  # is only read.
  if "$bin/$t" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
      -artifact_prefix="artifacts/$t/" -print_final_stats=1 "${dict[@]}" \
      "$work/$t" "corpus/$t" >"$work/$t.log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log")
    echo "fuzz smoke: $t ok, $runs executions in ${secs}s"
  else
    echo "fuzz smoke: $t FAILED (artifacts in fuzz/artifacts/$t/):"
    grep -v '^#\|^INFO\|^stat::' "$work/$t.log" | tail -40
    failed+=("$t")
  fi
done
echo "fuzz smoke: build ${built}s, total $((SECONDS - start))s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz smoke: failed: ${failed[*]}"
  exit 1
fi
