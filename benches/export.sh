#!/usr/bin/env bash
# Downloads of a whole layer (issue #10): every parcel of a GeoPackage as
# each file format, through /layers/{id}/features and WFS GetFeature,
# timed, with the server's resident memory before and after each and its
# peak (VmHWM), so that "exports stream" is a number, not a claim.
#
#   benches/export.sh [data.gpkg]     (default: the 20,000-parcel sample)
#
# Release build; a copy of the data in target/bench-data/. Prints a
# Markdown table: format, route, seconds, file size, RSS before/after and
# the peak so far.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=${1:-data/sample.gpkg}
BIN=${BIN:-target/release/geoplan}
PORT=${PORT:-18094}
ROUNDS=${ROUNDS:-3}
mkdir -p target/bench-data
cp "$SRC" target/bench-data/export.gpkg
[ -n "${NO_BUILD:-}" ] || cargo build --release --quiet
$BIN serve --gpkg target/bench-data/export.gpkg --listen 127.0.0.1:$PORT > target/bench-data/serve-export.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null; do
  kill -0 $SERVER 2>/dev/null || { cat target/bench-data/serve-export.log; exit 1; }
  sleep 0.3
done
kb() { awk -v k="$1:" '$1 == k {print $2}' /proc/$SERVER/status; }
B=http://127.0.0.1:$PORT
echo "parcels: $(curl -s "$B/layers/parcels/features?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["numberMatched"])')"
echo
echo "| route | format | s (median of $ROUNDS) | MB | RSS before MB | RSS after MB | peak RSS MB |"
echo "|---|---|---|---|---|---|---|"
run() {
  local route=$1 fmt=$2 url=$3 times=() size=0 before after
  before=$(kb VmRSS)
  for _ in $(seq "$ROUNDS"); do
    read -r t size < <(curl -s -o /dev/null -w '%{time_total} %{size_download}\n' "$url")
    times+=("$t")
  done
  after=$(kb VmRSS)
  med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (ROUNDS + 1) / 2 ))p")
  printf '| %s | %s | %.2f | %.1f | %d | %d | %d |\n' "$route" "$fmt" "$med" \
    "$(echo "$size / 1048576" | bc -l)" $((before / 1024)) $((after / 1024)) $(($(kb VmHWM) / 1024))
}
for f in gpkg shp kml csv xlsx; do
  run "/layers/parcels/features" "$f" "$B/layers/parcels/features?f=$f"
done
for f in application/geopackage%2Bsqlite3 SHAPE-ZIP application/json; do
  run "WFS 2.0 GetFeature" "$f" "$B/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=geoplan:parcels&COUNT=1000000&OUTPUTFORMAT=$f"
done
