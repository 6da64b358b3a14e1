#!/usr/bin/env bash
# Before/after on the attribute-showing routes (what the audit layer and the
# role check sit on): feature-API bbox pages, OGC API items, WFS pages and
# single features, each binary answering the same URL list in turn
# (BASE, BIN, BASE, BIN: ROUNDS=2), public and, for BIN, as an officer.
#
#   BASE=/path/to/old/geoplan benches/api_ab.sh   (PARCELS=1000000 DUR=10 CONNS=16)
#
# Prints a markdown table (also target/bench-data/api-ab-report.md).
set -euo pipefail
cd "$(dirname "$0")/.."
PARCELS=${PARCELS:-1000000}
DUR=${DUR:-10}
CONNS=${CONNS:-16}
ROUNDS=${ROUNDS:-2}
PORT=${PORT:-18095}
DATA=target/bench-data
GPKG=$DATA/parcels-$PARCELS.gpkg
WORK=$DATA/api-ab
OUT=$DATA/api-ab-report.md
KEY=api-ab-officer-key-0123456789abcdefghijklmnopqrstuvwxyz
: "${BASE:?set BASE to the older geoplan binary}"
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
mkdir -p "$WORK"
exec > >(tee "$OUT") 2>&1
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=${CARGO_TARGET_DIR:-target}/release/geoplan
fi
[ -f "$GPKG" ] || $BIN sample --seed 7 --parcels "$PARCELS" --out "$GPKG"
# A copy: the officer's answers are audited into the served file.
cp "$GPKG" "$WORK/served.gpkg"
HASH=$(printf '%s' "$KEY" | $BIN hash-password --api-key)
# The old binary knows no roles: its config has only the key.
printf '[ogc.api_keys]\nab = "%s"\n' "$HASH" > "$WORK/base.toml"
printf '[ogc.api_keys]\nab = "%s"\n[ogc.roles]\nab = "officer"\n' "$HASH" > "$WORK/new.toml"

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
start() { # binary config
  "$1" --config "$2" serve --gpkg "$WORK/served.gpkg" --listen 127.0.0.1:$PORT > "$WORK/serve.log" 2>&1 &
  SERVER=$!; PIDS+=("$SERVER")
  until curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null; do
    kill -0 $SERVER 2>/dev/null || { cat "$WORK/serve.log"; exit 1; }
    sleep 0.3
  done
}
stop() { kill $SERVER; wait $SERVER 2>/dev/null || true; }

start "$BIN" "$WORK/new.toml"
python3 - "$PORT" "$WORK" <<'EOF'
import json, random, sys, urllib.request
port, out = sys.argv[1], sys.argv[2]
random.seed(3)
base = f"http://127.0.0.1:{port}"
n = json.load(urllib.request.urlopen(f"{base}/layers/parcels"))["feature_count"]
paths = []
for fid in random.sample(range(1, n + 1), 150):
    f = json.load(urllib.request.urlopen(f"{base}/layers/parcels/features/{fid}"))
    ring = f["geometry"]["coordinates"][0] if f["geometry"]["type"] == "Polygon" else f["geometry"]["coordinates"][0][0]
    lon, lat = ring[0]
    d = 0.001
    bbox = f"{lon - d},{lat - d},{lon + d},{lat + d}"
    paths += [
        f"/layers/parcels/features?bbox={bbox}&limit=100",
        f"/ogcapi/collections/parcels/items?bbox={bbox}&limit=100",
        f"/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=geoplan:parcels&COUNT=100&BBOX={lat - d},{lon - d},{lat + d},{lon + d},urn:ogc:def:crs:EPSG::4326",
        f"/layers/parcels/features/{fid}",
    ]
random.shuffle(paths)
open(f"{out}/paths.txt", "w").write("\n".join(paths) + "\n")
EOF
stop
cat > "$WORK/cycle.lua" <<'EOF'
local paths = {}
for line in io.lines(os.getenv("URLS")) do paths[#paths + 1] = line end
local auth = os.getenv("AUTHZ")
init = function(args) i = math.random(#paths) end
request = function()
  i = i % #paths + 1
  local h = { ["Accept-Encoding"] = "gzip" }
  if auth ~= nil and auth ~= "" then h["Authorization"] = auth end
  return wrk.format("GET", paths[i], h)
end
EOF
run() { # -> "rps p50 p99"
  local out
  out=$(URLS="$WORK/paths.txt" AUTHZ="$1" wrk -t2 -c"$CONNS" -d"${DUR}s" --latency -s "$WORK/cycle.lua" "http://127.0.0.1:$PORT" 2>&1)
  echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '$1=="50%" {print $2}' <<<"$out") $(awk '$1=="99%" {print $2}' <<<"$out")"
}
echo "## Attribute routes before/after: BASE=$BASE vs BIN=$BIN, $PARCELS parcels, wrk -t2 -c$CONNS ${DUR}s, $ROUNDS rounds alternating"
echo
echo "| round | binary | caller | req/s | p50 | p99 |"
echo "|---|---|---|---|---|---|"
for r in $(seq "$ROUNDS"); do
  start "$BASE" "$WORK/base.toml"; run "" > "$WORK/r"; stop
  read -r rps p50 p99 < "$WORK/r"; echo "| $r | BASE | public | $rps | $p50 | $p99 |"
  start "$BIN" "$WORK/new.toml"; run "" > "$WORK/r"
  read -r rps p50 p99 < "$WORK/r"; echo "| $r | BIN | public | $rps | $p50 | $p99 |"
  run "Bearer $KEY" > "$WORK/r"; stop
  read -r rps p50 p99 < "$WORK/r"; echo "| $r | BIN | officer (audited) | $rps | $p50 | $p99 |"
done
