#!/usr/bin/env bash
# WFS GetFeature benchmark on the 1,000,000-parcel set, release build:
#
#   benches/wfs.sh        (PARCELS=1000000 RUNS=5 PAGE=10000 PORT=18097)
#   GPKG=data/sample.gpkg PARCELS=20000 BIN=target/debug/geoplan benches/wfs.sh   (smoke run)
#
# Prints markdown tables and writes them to target/bench-data/wfs-report.md:
#   1. GetFeature of 10,000 parcels as GeoJSON and as GML 3.2 (and GML 3.1.1,
#      GML 2): median and max time over RUNS, bytes, and the server's RSS
#      before and at its peak during the requests (sampled every 20 ms);
#   2. paging out every parcel with STARTINDEX, PAGE per request, as QGIS
#      and GDAL do: total time, features received, RSS min/max while paging
#      (flat memory: the body streams, nothing holds a whole page's text);
#   3. the whole layer in one streamed response (COUNT=PARCELS).
set -euo pipefail
cd "$(dirname "$0")/.."
PARCELS=${PARCELS:-1000000}
RUNS=${RUNS:-5}
PAGE=${PAGE:-10000}
PORT=${PORT:-18097}
DATA=target/bench-data
GPKG=${GPKG:-$DATA/parcels-$PARCELS.gpkg}
BIN=${BIN:-target/release/geoplan}
OUT=$DATA/wfs-report.md
mkdir -p "$DATA"
exec > >(tee "$OUT") 2>&1
if [ "$BIN" = target/release/geoplan ]; then cargo build --release --quiet; fi
[ -f "$GPKG" ] || $BIN sample --seed 7 --parcels "$PARCELS" --out "$GPKG"

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

if curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then
  echo "port $PORT is taken by another server; set PORT"; exit 1
fi
$BIN serve --gpkg "$GPKG" --listen 127.0.0.1:$PORT > "$DATA/serve-wfs.log" 2>&1 &
SERVER=$!; PIDS+=("$SERVER")
until curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null; do
  kill -0 $SERVER 2>/dev/null || { cat "$DATA/serve-wfs.log"; exit 1; }
  sleep 0.3
done
kill -0 $SERVER 2>/dev/null || { cat "$DATA/serve-wfs.log"; exit 1; }
curl -sf "http://127.0.0.1:$PORT/wfs?SERVICE=WFS&REQUEST=GetCapabilities" | grep -q WFS_Capabilities \
  || { echo "the server on port $PORT does not answer WFS"; exit 1; }
N=$(curl -s "http://127.0.0.1:$PORT/layers/parcels" | python3 -c "import json,sys; print(json.load(sys.stdin)['feature_count'])")
rss() { awk '/VmRSS/ {print $2}' /proc/$SERVER/status; }
# Samples the server's RSS every 20 ms into a file until stopped.
sample_start() { ( while :; do rss >> "$1"; sleep 0.02; done ) & SAMPLER=$!; PIDS+=("$SAMPLER"); }
sample_stop() { kill "$SAMPLER" 2>/dev/null || true; wait "$SAMPLER" 2>/dev/null || true; }
mb() { echo $(( $1 / 1024 )); }
WFS="http://127.0.0.1:$PORT/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=geoplan:parcels"
BASE_RSS=$(rss)

echo "## WFS GetFeature, geoplan ($(basename "$BIN"), $N parcels from $(basename "$GPKG"))"
echo
echo "Server RSS after loading: $(mb "$BASE_RSS") MB."
echo
echo "### 10,000 parcels in one GetFeature (STARTINDEX=$((N / 2)), $RUNS runs, loopback, no gzip)"
echo
echo "| format | median s | max s | MB | features/s | RSS before MB | RSS peak MB |"
echo "|---|---|---|---|---|---|---|"
for fmt in "application/json" "application/gml+xml; version=3.2" "text/xml; subtype=gml/3.1.1" "text/xml; subtype=gml/2.1.2"; do
  enc=$(python3 -c "import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))" "$fmt")
  before=$(rss); : > "$DATA/rss.txt"; sample_start "$DATA/rss.txt"
  : > "$DATA/times.txt"
  for _ in $(seq "$RUNS"); do
    curl -s -o "$DATA/wfs-body.out" -w '%{time_total} %{size_download}\n' \
      "$WFS&COUNT=10000&STARTINDEX=$((N / 2))&OUTPUTFORMAT=$enc" >> "$DATA/times.txt"
  done
  sample_stop
  got=$(grep -o '"type":"Feature"\|gml:id="parcels\.[0-9]*"\|fid="parcels\.[0-9]*"' "$DATA/wfs-body.out" | wc -l)
  [ "$got" -eq 10000 ] || [ "$N" -lt $((N / 2 + 10000)) ] || { echo "expected 10000 features, got $got"; exit 1; }
  peak=$(sort -n "$DATA/rss.txt" | tail -1)
  sort -n "$DATA/times.txt" | awk -v runs="$RUNS" -v f="$fmt" -v b="$(mb "$before")" -v p="$(mb "$peak")" -v n="$got" \
    '{t[NR]=$1; s=$2} END {m=t[int((NR+1)/2)]; printf "| %s | %.3f | %.3f | %.1f | %.0f | %s | %s |\n", f, m, t[NR], s/1048576, n/m, b, p}'
done

echo
echo "### Paging out every parcel, $PAGE per request (STARTINDEX=0, $PAGE, ...)"
echo
for fmt in "application/gml+xml; version=3.2" "application/json"; do
  enc=$(python3 -c "import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))" "$fmt")
  : > "$DATA/rss.txt"; sample_start "$DATA/rss.txt"
  start=0; total=0; bytes=0; secs=0
  while [ "$start" -lt "$N" ]; do
    # Time the transfer alone (curl's own clock); read the count the server
    # reports from the head of the page, without scanning a page's text.
    read -r t b < <(curl -s -o "$DATA/wfs-page.out" -w '%{time_total} %{size_download}\n' "$WFS&COUNT=$PAGE&STARTINDEX=$start&OUTPUTFORMAT=$enc")
    got=$(head -c 4096 "$DATA/wfs-page.out" | grep -o 'numberReturned[=":]*[0-9]*' | grep -o '[0-9]*$')
    total=$((total + got)); bytes=$((bytes + b)); start=$((start + PAGE))
    secs=$(python3 -c "print($secs + $t)")
  done
  sample_stop
  read -r lo hi < <(sort -n "$DATA/rss.txt" | awk 'NR==1 {lo=$1} {hi=$1} END {print lo, hi}')
  python3 - "$fmt" "$secs" "$total" "$bytes" "$N" "$lo" "$hi" "$PAGE" <<'EOF2'
import sys
fmt, secs, total, size, n, lo, hi, page = sys.argv[1:]
dt = float(secs)
print(f"- {fmt}: {total} of {n} parcels in {dt:.1f} s of transfer ({int(total) / dt:,.0f} features/s, "
      f"{int(size) / 1048576:,.0f} MB, {(int(n) + int(page) - 1) // int(page)} requests); "
      f"server RSS {int(lo) // 1024}–{int(hi) // 1024} MB while paging")
assert int(total) == int(n), f"paged {total} features, the layer has {n}"
EOF2
done

echo
echo "### The whole layer in one streamed response (COUNT=$N, GML 3.2)"
echo
: > "$DATA/rss.txt"; sample_start "$DATA/rss.txt"
read -r t b < <(curl -s -o /dev/null -w '%{time_total} %{size_download}\n' "$WFS&COUNT=$N")
sample_stop
peak=$(sort -n "$DATA/rss.txt" | tail -1)
echo "- $N parcels, $((b / 1048576)) MB in ${t} s; server RSS before $(mb "$BASE_RSS") MB, peak $(mb "$peak") MB"
echo
echo "report: $OUT"
