#!/usr/bin/env bash
# Soak: the release build under a realistic mix for a long time, watching
# for errors, tail latency, memory drift and leaked files or threads.
#
#   benches/soak.sh      (DUR=1800 CONNS=200 PARCELS=1000000 WARMUP=300 EDIT_EVERY=2)
#
# One server on a copy of the PARCELS-parcel GeoPackage, wrk with CONNS
# connections over loopback for DUR seconds cycling through a shuffled mix:
# vector tiles at z10-16, feature-API bbox pages, WMS GetMap, WFS GetFeature
# pages, planning answers at a point, search; beside it a trickle of WFS-T
# updates (one every EDIT_EVERY s, as an editor). Every 10 s the server's
# RSS, open files and threads are sampled from /proc.
#
# Prints a markdown report (also target/bench-data/soak-report.md): requests,
# errors (non-2xx and socket errors), p50/p99/max, edits made and refused,
# RSS after WARMUP s and at the end (drift), open files and threads (growth
# after warm-up). The goal (#12): 0 errors, RSS drift <= 5 %, no growth.
set -euo pipefail
cd "$(dirname "$0")/.."
PARCELS=${PARCELS:-1000000}
DUR=${DUR:-1800}
CONNS=${CONNS:-200}
WARMUP=${WARMUP:-300}
EDIT_EVERY=${EDIT_EVERY:-2}
PORT=${PORT:-18097}
DATA=target/bench-data
GPKG=$DATA/parcels-$PARCELS.gpkg
WORK=$DATA/soak
OUT=$DATA/soak-report.md
KEY=soak-editor-key-0123456789abcdefghijklmnopqrstuvwxyz
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
mkdir -p "$WORK"
exec > >(tee "$OUT") 2>&1
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=${CARGO_TARGET_DIR:-target}/release/geoplan
fi
[ -f "$GPKG" ] || $BIN sample --seed 7 --parcels "$PARCELS" --out "$GPKG"
cp "$GPKG" "$WORK/soak.gpkg"
HASH=$(printf '%s' "$KEY" | $BIN hash-password --api-key)
cat > "$WORK/soak.toml" <<EOF
[ogc]
editable = ["parcels"]
[ogc.api_keys]
soak = "$HASH"
EOF

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# The mix, from 300 parcel centres (Web Mercator and CRS84), as URL paths.
python3 - "$WORK/soak.gpkg" "$WORK" <<'EOF'
import math, random, sqlite3, sys
gpkg, out = sys.argv[1], sys.argv[2]
random.seed(42)
db = sqlite3.connect(gpkg)
# The places: 300 random parcels (their centres come from the server, in
# CRS84, once it runs).
fids = [r[0] for r in db.execute("SELECT fid FROM parcels ORDER BY random() LIMIT 300")]
open(f"{out}/fids.txt", "w").write("\n".join(map(str, fids)) + "\n")
EOF
start_server() {
  "$BIN" --config "$WORK/soak.toml" serve --gpkg "$WORK/soak.gpkg" --listen 127.0.0.1:$PORT > "$WORK/serve.log" 2>&1 &
  SERVER=$!; PIDS+=("$SERVER")
  until curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null; do
    kill -0 $SERVER 2>/dev/null || { cat "$WORK/serve.log"; exit 1; }
    sleep 0.5
  done
}
start_server
python3 - "$PORT" "$WORK" <<'EOF'
import json, math, random, sys, urllib.request
port, out = sys.argv[1], sys.argv[2]
random.seed(7)
base = f"http://127.0.0.1:{port}"
centres = []
for fid in open(f"{out}/fids.txt").read().split():
    f = json.load(urllib.request.urlopen(f"{base}/layers/parcels/features/{fid}"))
    ring = f["geometry"]["coordinates"][0] if f["geometry"]["type"] == "Polygon" else f["geometry"]["coordinates"][0][0]
    lon = sum(p[0] for p in ring[:-1]) / (len(ring) - 1)
    lat = sum(p[1] for p in ring[:-1]) / (len(ring) - 1)
    centres.append((int(fid), lon, lat))
def tile(lon, lat, z):
    n = 2 ** z; r = math.radians(lat)
    return int((lon + 180) / 360 * n), int((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * n)
def merc(lon, lat):
    return lon * 20037508.342789244 / 180, math.log(math.tan((90 + lat) * math.pi / 360)) * 6378137
paths = []
for fid, lon, lat in centres:
    for z in range(10, 17):
        x, y = tile(lon, lat, z)
        layers = "parcels" if z >= 14 else "parcels,zoning_lots,roads,admin_units,water"
        for dx in (-1, 0, 1):
            paths.append(f"/tiles/{layers}/{z}/{x + dx}/{y}.mvt")
    d = 0.002
    bbox = f"{lon - d},{lat - d},{lon + d},{lat + d}"
    paths.append(f"/layers/parcels/features?bbox={bbox}&limit=100")
    paths.append(f"/ogcapi/collections/parcels/items?bbox={bbox}&limit=50")
    mx, my = merc(lon, lat)
    paths.append(f"/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=parcels,zoning_lots&STYLES=&CRS=EPSG:3857&BBOX={mx - 400},{my - 400},{mx + 400},{my + 400}&WIDTH=512&HEIGHT=512&FORMAT=image/png")
    paths.append(f"/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=geoplan:parcels&COUNT=100&BBOX={lat - d},{lon - d},{lat + d},{lon + d},urn:ogc:def:crs:EPSG::4326")
    paths.append(f"/planning?point={lon},{lat}")
    paths.append(f"/search?q=th%E1%BB%ADa%20{fid % 500 + 1}")
random.shuffle(paths)
open(f"{out}/paths.txt", "w").write("\n".join(paths) + "\n")
open(f"{out}/edit-fids.txt", "w").write("\n".join(str(c[0]) for c in centres) + "\n")
print(f"{len(paths)} paths from {len(centres)} places")
EOF
cat > "$WORK/soak.lua" <<'EOF'
local paths = {}
for line in io.lines(os.getenv("URLS")) do paths[#paths + 1] = line end
local threads = {}
setup = function(t) threads[#threads + 1] = t end
init = function(args) i = math.random(#paths); bad = 0; busy = 0; client = 0 end
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], { ["Accept-Encoding"] = "gzip" })
end
response = function(status, headers, body)
  if status == 503 then busy = busy + 1
  elseif status >= 400 and status < 500 then client = client + 1
  elseif status >= 300 and status ~= 304 then bad = bad + 1 end
end
done = function(summary, latency, requests)
  local n, b, c = 0, 0, 0
  for _, t in ipairs(threads) do n = n + t:get("bad"); b = b + t:get("busy"); c = c + t:get("client") end
  io.write(string.format("non2xx %d\n", n + b + c))
  io.write(string.format("busy503 %d\n", b))
  io.write(string.format("client4xx %d\n", c))
  io.write(string.format("socket_errors %d\n", summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  io.write(string.format("requests %d\n", summary.requests))
  for _, p in ipairs({50, 99, 99.9}) do
    io.write(string.format("p%s %.1f\n", p, latency:percentile(p) / 1000))
  end
  io.write(string.format("max %.1f\n", latency.max / 1000))
end
EOF

# The edit trickle: WFS-T updates of the address of random parcels.
edits() {
  local ok=0 bad=0 end=$((SECONDS + DUR))
  mapfile -t FIDS < "$WORK/edit-fids.txt"
  while [ $SECONDS -lt $end ]; do
    local fid=${FIDS[$((RANDOM % ${#FIDS[@]}))]}
    local body="<wfs:Transaction service=\"WFS\" version=\"2.0.0\" xmlns:wfs=\"http://www.opengis.net/wfs/2.0\" xmlns:fes=\"http://www.opengis.net/fes/2.0\" xmlns:geoplan=\"https://geoplan.danang.gov.vn/ns\"><wfs:Update typeName=\"geoplan:parcels\"><wfs:Property><wfs:ValueReference>address</wfs:ValueReference><wfs:Value>Soak $SECONDS</wfs:Value></wfs:Property><fes:Filter><fes:ResourceId rid=\"parcels.$fid\"/></fes:Filter></wfs:Update></wfs:Transaction>"
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" -H 'Content-Type: text/xml' --data-binary "$body" "http://127.0.0.1:$PORT/wfs")
    if [ "$code" = 200 ]; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
    sleep "$EDIT_EVERY"
  done
  echo "$ok $bad" > "$WORK/edits.txt"
}
sample_proc() {
  # Up to the last seconds of the load (after it, connections close).
  local end=$((SECONDS + DUR - 2))
  echo "t,rss_kb,fds,threads,tile_cache_mb,engine_mb,heap_allocated_mb,heap_resident_mb" > "$WORK/proc.csv"
  local t0=$SECONDS
  while [ $SECONDS -lt $end ] && kill -0 $SERVER 2>/dev/null; do
    local rss thr fds m
    rss=$(awk '/VmRSS/ {print $2}' /proc/$SERVER/status)
    thr=$(awk '/Threads/ {print $2}' /proc/$SERVER/status)
    fds=$(ls /proc/$SERVER/fd | wc -l)
    # What the server says it holds, beside what the kernel says it has.
    m=$(curl -s --max-time 5 "http://127.0.0.1:$PORT/metrics" | awk '
      /^geoplan_tile_cache_bytes / {c = $2}
      /^geoplan_engine_layer_bytes\{/ {e += $2}
      /^geoplan_heap_bytes\{kind="allocated"\}/ {a = $2}
      /^geoplan_heap_bytes\{kind="resident"\}/ {r = $2}
      END {printf "%.0f,%.0f,%.0f,%.0f", c / 1048576, e / 1048576, a / 1048576, r / 1048576}')
    echo "$((SECONDS - t0)),$rss,$fds,$thr,$m" >> "$WORK/proc.csv"
    sleep 10
  done
}
sample_proc & PIDS+=($!); SAMPLER=$!
edits & PIDS+=($!); EDITS=$!
URLS="$WORK/paths.txt" wrk -t2 -c"$CONNS" -d"${DUR}s" --timeout 30s -s "$WORK/soak.lua" "http://127.0.0.1:$PORT" > "$WORK/wrk.txt" 2>&1 || true
wait $EDITS || true
kill $SAMPLER 2>/dev/null || true
read -r EOK EBAD < "$WORK/edits.txt"
v() { awk -v k="$1" '$1==k {print $2}' "$WORK/wrk.txt"; }
echo "## Soak: $(nproc) cores, $PARCELS parcels, ${DUR} s, $CONNS connections (wrk -t2), edits every ${EDIT_EVERY} s"
echo
echo "| requests | req/s | non-2xx | of which 503 (caps) | of which 4xx | socket errors | p50 ms | p99 ms | p99.9 ms | max ms | edits ok | edits refused |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
echo "| $(v requests) | $(( $(v requests) / DUR )) | $(v non2xx) | $(v busy503) | $(v client4xx) | $(v socket_errors) | $(v p50) | $(v p99) | $(v p99.9) | $(v max) | $EOK | $EBAD |"
echo
python3 - "$WORK/proc.csv" "$WARMUP" <<'EOF'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1]))]
warm = int(sys.argv[2])
after = [r for r in rows if int(r["t"]) >= warm] or rows
a, z = after[0], after[-1]
ra, rz = int(a["rss_kb"]), int(z["rss_kb"])
peak = max(int(r["rss_kb"]) for r in rows)
print("| RSS at warm-up MB | RSS at end MB | drift | peak MB | open files (warm-up → end, max) | threads (warm-up → end, max) |")
print("|---|---|---|---|---|---|")
print(f"| {ra/1024:.0f} | {rz/1024:.0f} | {100*(rz-ra)/ra:+.1f} % | {peak/1024:.0f} | {a['fds']} → {z['fds']}, {max(int(r['fds']) for r in after)} | {a['threads']} → {z['threads']}, {max(int(r['threads']) for r in after)} |")
print()
print("| held (MB, warm-up → end) | tile cache | engine layers | heap allocated | heap resident |")
print("|---|---|---|---|---|")
print("| | " + " | ".join(f"{a[k]} → {z[k]}" for k in ("tile_cache_mb", "engine_mb", "heap_allocated_mb", "heap_resident_mb")) + " |")
EOF
echo
echo "Samples every 10 s: $WORK/proc.csv; wrk output: $WORK/wrk.txt; server log: $WORK/serve.log"
