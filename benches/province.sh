#!/usr/bin/env bash
# A whole province on one machine (#12 §4): the release build serving
# PARCELS parcels from the GeoPackage and from PostGIS, each in turn.
#
#   benches/province.sh     (PARCELS=5000000 PG=postgres://postgres@127.0.0.1:5432)
#   BIN=<binary>            serve with this binary instead of building one
#   DB=<name>               the database (default geoplan_province)
#   SKIP_LOAD=1             the database DB is loaded already
#   STORES="gpkg postgis"   which stores to measure
#
# For each store: seconds until /ready, RSS 20 s after ready (steady) and
# the peak (VmHWM) and their ratio (goal: start-up <= 60 s, peak <= 1.3 x
# steady), the engine's own memory split (geometry + R-trees against the
# raw coordinate bytes, goal <= 2 x), then the latency of single requests
# on the served set, p50/p99 with wrk at 1 connection for a few seconds
# each, over lists made from 400 of the served parcels: z16 and z14 tiles
# (the memory tile cache off, so every tile is rendered), 100-parcel bbox
# pages, parcels by cadastral key, planning answers at their centres, 40
# site searches, and land-use statistics by commune before and after
# 1 July 2025; errors by kind (a stall past wrk's 2 s is a timeout). Then
# five WFS-T edits (an editor's API key in the generated config), each
# followed at once by a key lookup: an edit must not make the next lookup
# wait for an index over millions of rows. The criterion benches (`benches/run.sh`, engine and
# planning) give the engine-level figures on the same file.
set -euo pipefail
cd "$(dirname "$0")/.."
PARCELS=${PARCELS:-5000000}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
DB=${DB:-geoplan_province}
DATA=target/bench-data
GPKG=$DATA/parcels-$PARCELS.gpkg
PORT=${PORT:-18090}
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=target/release/geoplan
fi
mkdir -p "$DATA"
[ -f "$GPKG" ] || /usr/bin/time -f "sample: %e s, peak RSS %M KB" \
  $BIN sample --seed 7 --parcels "$PARCELS" --out "$GPKG"
base=http://127.0.0.1:$PORT
# The editor's API key of the edits below (a bench-only secret).
KEY=province-bench-editor-key-0123456789abcdef

# p50 and p99 of one URL list, single connection (latency, not throughput).
latency() { # label, file of URLs
  local lua=$DATA/province-list.lua
  cat > "$lua" <<'EOF'
local urls, i = {}, 0
for l in io.lines(os.getenv("URLS")) do urls[#urls + 1] = l end
request = function()
  i = i % #urls + 1
  return wrk.format("GET", urls[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %.2f %.2f\n", summary.requests,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
EOF
  local r
  r=$(URLS=$2 wrk -t1 -c1 -d"${3:-10}"s -s "$lua" "$base" | grep RESULT)
  local n connect read write status timeout p50 p99 err kinds=""
  read -r _ n connect read write status timeout p50 p99 <<<"$r"
  # Errors by kind: a stall past wrk's 2 s is a timeout, not a bad status.
  err=$((connect + read + write + status + timeout))
  for k in connect read write status timeout; do
    [ "${!k}" = 0 ] || kinds="$kinds${kinds:+, }$k ${!k}"
  done
  printf '| %s | %s | %s | %s ms | %s ms |\n' "$1" "$n" "$err${kinds:+ ($kinds)}" "$p50" "$p99"
}

measure() { # label, serve args...
  local label=$1; shift
  local log=$DATA/province-serve.log
  local t0 t1 pid hwm rss
  t0=$(date +%s.%N)
  # Tiles are measured cold: the memory tile cache is off.
  printf '[tiles]\ncache_bytes = 0\n[ogc]\neditable = ["parcels"]\n[ogc.api_keys]\nbench = "%s"\n' \
    "$(printf %s "$KEY" | $BIN hash-password --api-key)" > "$DATA/province.toml"
  $BIN serve --config "$DATA/province.toml" --listen 127.0.0.1:$PORT "$@" > "$log" 2>&1 &
  pid=$!
  until curl -sf "$base/ready" >/dev/null; do
    kill -0 $pid 2>/dev/null || { cat "$log"; exit 1; }
    sleep 0.2
  done
  t1=$(date +%s.%N)
  sleep 20
  hwm=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
  rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
  echo "### $label"
  echo
  echo "| ready after | RSS steady (20 s after ready) | peak (VmHWM) | peak / steady |"
  echo "|---|---|---|---|"
  printf '| %.1f s | %d MB | %d MB | %.2f |\n' "$(echo "$t1 - $t0" | bc)" $((rss / 1024)) $((hwm / 1024)) \
    "$(echo "scale=3; $hwm / $rss" | bc)"
  echo
  grep -E "^engine:|layers from" "$log" | sed 's/^/    /'
  echo
  # Request lists from the data itself: parcels' keys and centroids.
  local keys=$DATA/province-keys.json
  curl -sf "$base/layers/parcels/features?limit=400&offset=$((PARCELS / 3))" > "$keys"
  python3 - "$keys" "$DATA" <<'EOF'
import json, math, random, sys
fs = json.load(open(sys.argv[1]))["features"]
out = sys.argv[2]
random.seed(7)
def centre(f):
    g = f["geometry"]
    ring = g["coordinates"][0] if g["type"] == "Polygon" else g["coordinates"][0][0]
    return sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)
def tile(lon, lat, z):
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return f"/tiles/parcels/{z}/{x}/{y}.mvt"
lists = {k: [] for k in ("z16", "z14", "bbox", "key", "planning", "sites", "stats")}
seen16, seen14 = set(), set()
for f in fs:
    lon, lat = centre(f)
    p = f["properties"]
    t = tile(lon, lat, 16)
    if t not in seen16:
        seen16.add(t); lists["z16"].append(t)
    t = tile(lon, lat, 14)
    if t not in seen14:
        seen14.add(t); lists["z14"].append(t)
    d = 0.0012
    lists["bbox"].append(f"/layers/parcels/features?bbox={lon-d},{lat-d},{lon+d},{lat+d}&limit=100")
    lists["key"].append(f"/parcels?commune={p['commune_code']}&sheet={p['sheet_number']}&parcel={p['parcel_number']}")
    lists["planning"].append(f"/planning?point={lon},{lat}")
from urllib.parse import quote
for i in range(40):
    if i % 2:
        f = random.choice(["công nghiệp", "thương mại dịch vụ", "hỗn hợp", "ở mới"])
        lists["sites"].append(f"/sites?function={quote(f)}&min_area={random.choice([1, 2])}ha&near=national_road:{random.choice([5000, 10000])}&limit=20")
    else:
        use = random.choice(["TMD", "SKC", "ODT", "ONT", "CLN", "HNK"])
        lists["sites"].append(f"/sites?candidates=parcels&use={use}&min_area={random.choice([500, 1000, 2000])}&limit=20")
for d in ("2025-07-01", "2025-06-30"):
    lists["stats"].append(f"/stats/landuse?level=commune&as_of={d}")
for k, v in lists.items():
    random.shuffle(v)
    open(f"{out}/province-{k}.txt", "w").write("\n".join(v) + "\n")
# Edits of a parcel's address (each makes a new snapshot; an edit that
# changes nothing would not), and the edits that put it back.
from xml.sax.saxutils import escape
def set_address(f, a):
    return ('<wfs:Transaction service="WFS" version="2.0.0" xmlns:wfs="http://www.opengis.net/wfs/2.0" '
        'xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:geoplan="https://geoplan.danang.gov.vn/ns">'
        '<wfs:Update typeName="geoplan:parcels"><wfs:Property><wfs:ValueReference>address</wfs:ValueReference>'
        f'<wfs:Value>{escape(a)}</wfs:Value></wfs:Property>'
        f'<fes:Filter><fes:ResourceId rid="parcels.{f["id"]}"/></fes:Filter></wfs:Update></wfs:Transaction>')
for i, f in enumerate(fs[:5]):
    a = f["properties"]["address"] or ""
    open(f"{out}/province-edit-{i}.xml", "w").write(set_address(f, a + " (bench)"))
    open(f"{out}/province-undo-{i}.xml", "w").write(set_address(f, a))
EOF
  echo "| request (1 connection) | requests | errors | p50 | p99 |"
  echo "|---|---|---|---|---|"
  latency "z16 tile (cache off)" "$DATA/province-z16.txt"
  latency "z14 tile (cache off)" "$DATA/province-z14.txt"
  latency "bbox page of up to 100 parcels" "$DATA/province-bbox.txt"
  latency "parcel by cadastral key" "$DATA/province-key.txt"
  latency "planning answer at a point" "$DATA/province-planning.txt"
  latency "site search" "$DATA/province-sites.txt"
  latency "land-use statistics by commune" "$DATA/province-stats.txt" 10
  echo
  # A key lookup right after each edit: the edit's snapshot must answer
  # from the key order the base already has, not sort millions of rows.
  echo "| edit (WFS-T Update of one parcel) | edit | next key lookup |"
  echo "|---|---|---|"
  local i url
  for i in 0 1 2 3 4; do
    url=$(sed -n "$((i + 2))p" "$DATA/province-key.txt")
    printf '| %d | %.1f ms | %.1f ms |\n' "$i" \
      "$(curl -sf -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $KEY" \
        -H 'Content-Type: application/xml' --data-binary @"$DATA/province-edit-$i.xml" "$base/wfs" \
        | awk '{print $1 * 1000}')" \
      "$(curl -sf -o /dev/null -w '%{time_total}' "$base$url" | awk '{print $1 * 1000}')"
  done
  for i in 0 1 2 3 4; do
    curl -sf -o /dev/null -H "Authorization: Bearer $KEY" -H 'Content-Type: application/xml' \
      --data-binary @"$DATA/province-undo-$i.xml" "$base/wfs"
  done
  echo
  kill $pid; wait $pid 2>/dev/null || true
}

echo "## $PARCELS parcels, $(nproc) cores, $(date -u +%F)"
echo
case " ${STORES:-gpkg postgis} " in *" gpkg "*) measure "GeoPackage" --gpkg "$GPKG" ;; esac
case " ${STORES:-gpkg postgis} " in *" postgis "*)
  if [ -z "${SKIP_LOAD:-}" ]; then
    psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
    /usr/bin/time -f "geoplan load: %e s, peak RSS %M KB" $BIN load --from "$GPKG" --database-url "$PG/$DB"
    psql "$PG/$DB" -qc "VACUUM ANALYZE"
  fi
  measure "PostGIS" --database-url "$PG/$DB" ;;
esac
