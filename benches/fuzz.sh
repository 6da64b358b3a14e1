#!/usr/bin/env bash
# Long fuzz runs (a bench, not a test): each cargo-fuzz target for RUNS
# executions (libFuzzer -runs), one after the other, then a table of
# executions, executions per second and findings (crash, timeout or OOM
# inputs written to fuzz/artifacts/<target>/ by this run).
#   benches/fuzz.sh [RUNS] [TARGET...]     RUNS defaults to 10000000
#   FUZZ_MAX_SECS   also stop a target after this many seconds (default: none)
#   FUZZ_TARGET_DIR cargo target directory (default fuzz/target)
# New inputs are kept in fuzz/target/corpus-work/<target> (not committed);
# fold the ones that add coverage into the committed corpus with
#   fuzz/target/<host>/release/<target> -set_cover_merge=1 -use_counters=0 \
#     -use_cmp=0 fuzz/corpus/<target> fuzz/target/corpus-work/<target>
# (new edges only, which keeps the corpora small), or `cargo fuzz cmin`.
# libFuzzer stops a target at its first finding, so a finding is 0 or 1.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
runs=${1:-10000000}
shift || true
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-$PWD/target}
# Optimised, with debug assertions (the smoke in make test builds
# unoptimised: it runs seconds, these runs millions).
cargo fuzz build --sanitizer none -O --debug-assertions --codegen-units 16 >&2
bin="$CARGO_TARGET_DIR/$(rustc -vV | sed -n 's/^host: //p')/release"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
logs="$CARGO_TARGET_DIR/fuzz-logs"
mkdir -p "$logs"
rows=()
status=0
for t in "${targets[@]}"; do
  mkdir -p "$CARGO_TARGET_DIR/corpus-work/$t" "artifacts/$t"
  dict=()
  case $t in
    wfs_transaction) dict=(-dict=dict/wfs_xml.dict) ;;
    *) [ -f "dict/$t.dict" ] && dict=(-dict="dict/$t.dict") ;;
  esac
  limit=()
  [ -n "${FUZZ_MAX_SECS:-}" ] && limit=(-max_total_time="$FUZZ_MAX_SECS")
  before=$(find "artifacts/$t" -type f | wc -l)
  start=$SECONDS
  echo "fuzz: $t, $runs runs ..." >&2
  rc=0
  "$bin/$t" -runs="$runs" "${limit[@]}" -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="artifacts/$t/" -print_final_stats=1 "${dict[@]}" \
    "$CARGO_TARGET_DIR/corpus-work/$t" "corpus/$t" >"$logs/$t.log" 2>&1 || rc=$?
  secs=$((SECONDS - start))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t.log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$logs/$t.log")
  found=$(( $(find "artifacts/$t" -type f | wc -l) - before ))
  [ "$rc" -eq 0 ] || status=1
  rows+=("$(printf '%-16s %12s %9s %6s %8s' "$t" "${execs:-?}" "${rate:-?}" "${secs}" "$found")")
done
printf '%-16s %12s %9s %6s %8s\n' target executions exec/s secs findings
printf '%s\n' "${rows[@]}"
echo "logs: $logs" >&2
exit $status
