#!/usr/bin/env bash
# WMS GetMap benchmark on the 1,000,000-parcel set, release build: dense
# parcels with labels (fill, outlines, "number/area/code" labels with
# halos), PNG, 256x256 and 1024x768, wrk over loopback at concurrency 16;
# optionally side by side with MapServer 8.0 (Debian's mapserver-bin,
# FastCGI under lighttpd) drawing the same parcels from the same PostGIS
# table with an equivalent mapfile generated from styles/planning.json.
#
#   benches/wms.sh        (PARCELS=1000000 DUR=10 CONNS=16 MAPSERVER=1
#                          PG=postgres://postgres@127.0.0.1:5432)
#
# MAPSERVER=0 skips the MapServer side (and PostGIS). GPKG=file serves
# another GeoPackage (e.g. GPKG=data/sample.gpkg DUR=2 for a smoke run).
# Prints markdown tables and writes them to target/bench-data/wms-report.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PARCELS=${PARCELS:-1000000}
DATA=target/bench-data
GPKG=${GPKG:-$DATA/parcels-$PARCELS.gpkg}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
DB=geoplan_bench
DUR=${DUR:-10}
CONNS=${CONNS:-16}
MAPSERVER=${MAPSERVER:-1}
BIN=target/release/geoplan
PORT=${PORT:-18092}
MS_PORT=${MS_PORT:-18093}
OUT=$DATA/wms-report.md
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
mkdir -p "$DATA"
exec > >(tee "$OUT") 2>&1
cargo build --release --quiet
[ -f "$GPKG" ] || $BIN sample --seed 7 --parcels "$PARCELS" --out "$GPKG"

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

$BIN serve --gpkg "$GPKG" --listen 127.0.0.1:$PORT > "$DATA/serve-wms.log" 2>&1 &
SERVER=$!; PIDS+=("$SERVER")
until curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null; do
  kill -0 $SERVER 2>/dev/null || { cat "$DATA/serve-wms.log"; exit 1; }
  sleep 0.5
done

# Viewports: 200 parcels spread over the whole set (one per page of the
# fid order), each the centre of a map at 0.5 m per pixel (MapLibre zoom
# ~17.3: fills, outlines and labels all on), in EPSG:3857.
python3 - "$PORT" "$DATA" <<'EOF'
import json, sys, urllib.request
port, d = sys.argv[1], sys.argv[2]
base = f"http://127.0.0.1:{port}"
n = json.load(urllib.request.urlopen(f"{base}/layers/parcels"))["feature_count"]
step = max(1, n // 200)
centres = []
for off in range(0, n, step):
    fc = json.load(urllib.request.urlopen(f"{base}/layers/parcels/features?limit=1&offset={off}&crs=EPSG:3857"))
    for f in fc["features"]:
        ring = f["geometry"]["coordinates"][0]
        xs = [p[0] for p in ring]; ys = [p[1] for p in ring]
        centres.append((sum(xs) / len(xs), sum(ys) / len(ys)))
    if len(centres) >= 200:
        break
res = 0.5
for w, h in ((256, 256), (1024, 768)):
    with open(f"{d}/wms-{w}x{h}.txt", "w") as out:
        for x, y in centres:
            bbox = f"{x - w / 2 * res:.2f},{y - h / 2 * res:.2f},{x + w / 2 * res:.2f},{y + h / 2 * res:.2f}"
            out.write(f"SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=parcels&STYLES=&CRS=EPSG:3857&BBOX={bbox}&WIDTH={w}&HEIGHT={h}&FORMAT=image/png&TRANSPARENT=TRUE\n")
EOF
cat > "$DATA/wms-cycle.lua" <<'EOF'
local qs = {}
for line in io.lines(os.getenv("QUERIES")) do qs[#qs + 1] = line end
local prefix = os.getenv("PREFIX")
local i = 0
init = function(args) i = math.random(#qs) end
request = function()
  i = i % #qs + 1
  return wrk.format("GET", prefix .. qs[i])
end
EOF
run_wrk() { # label queries-file port path-prefix -> table row
  local out rps p50 p99 errs
  out=$(QUERIES="$2" PREFIX="$4" wrk -t2 -c"$CONNS" -d"${DUR}s" --timeout 30s --latency -s "$DATA/wms-cycle.lua" "http://127.0.0.1:$3" 2>&1)
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errs=$(awk '/Non-2xx/ {print $4}' <<<"$out")
  echo "| $1 | $CONNS | $rps | $p50 | $p99 | ${errs:-0} |"
  echo "$rps" > "$DATA/last-rps"
}
# One map of each size, checked before timing (a benchmark of errors is
# worthless) and kept for a look.
for s in 256x256 1024x768; do
  q=$(head -1 "$DATA/wms-$s.txt")
  ct=$(curl -s -o "$DATA/wms-geoplan-$s.png" -w '%{content_type}' "http://127.0.0.1:$PORT/wms?$q")
  [ "$ct" = image/png ] || { echo "geoplan answered $ct:"; cat "$DATA/wms-geoplan-$s.png"; exit 1; }
done

echo "## WMS GetMap, geoplan (release, $(basename "$GPKG"), wrk -t2 -c$CONNS, ${DUR}s)"
echo
echo "200 viewports centred on parcels spread over the set; 0.5 m per pixel in EPSG:3857; LAYERS=parcels (land-use fill, outlines, labels with halos); PNG with alpha."
echo
echo "| run | conns | requests/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|---|"
run_wrk "geoplan 256x256" "$DATA/wms-256x256.txt" $PORT "/wms?"; G256=$(cat "$DATA/last-rps")
run_wrk "geoplan 1024x768" "$DATA/wms-1024x768.txt" $PORT "/wms?"; G1024=$(cat "$DATA/last-rps")
echo
echo "Peak RSS of geoplan: $(( $(awk '/VmHWM/ {print $2}' /proc/$SERVER/status) / 1024 )) MB."

[ "$MAPSERVER" = 1 ] || exit 0

# MapServer 8.0 over the same parcels in PostGIS (as benches/tiles.sh
# loads them), FastCGI under lighttpd, one mapserv process per core.
command -v mapserv >/dev/null || apt-get install -y -qq mapserver-bin >/dev/null
command -v lighttpd >/dev/null || apt-get install -y -qq lighttpd >/dev/null
have=$(psql "$PG/$DB" -tAc "SELECT count(*) FROM geoplan.parcels" 2>/dev/null || echo 0)
if [ "$have" != "$PARCELS" ]; then
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
  $BIN load --from "$GPKG" --database-url "$PG/$DB"
  psql "$PG/$DB" -qc "VACUUM ANALYZE"
fi
MS=$(realpath "$DATA")/mapserver
mkdir -p "$MS"
python3 - "$PG/$DB" "$MS" styles/planning.json <<'EOF'
import json, sys, urllib.parse
url, d, style = sys.argv[1:4]
u = urllib.parse.urlparse(url)
conn = f"host={u.hostname} port={u.port or 5432} dbname={u.path.lstrip('/')} user={u.username or 'postgres'}"
if u.password:
    conn += f" password={u.password}"
layers = {l["id"]: l for l in json.load(open(style))["layers"]}
fill = layers["parcels-fill"]["paint"]["fill-color"]
by_colour = {}
for code, colour in zip(fill[2:-1:2], fill[3:-1:2]):
    by_colour.setdefault(colour, []).append(code)
# Zoom 17 (labels) and 15 (outlines) as scale denominators, as geoplan's
# capabilities advertise them.
scale = lambda z: 2 * 20037508.342789244 / 512 / 2 ** z / 0.00028
classes = []
for colour, codes in by_colour.items():
    classes.append(f'''    CLASS
      EXPRESSION {{{",".join(codes)}}}
      STYLE COLOR "{colour}" OPACITY 90 END
      STYLE OUTLINECOLOR "#7a5c3e" WIDTH 0.6 MAXSCALEDENOM {scale(15):.0f} END
      LABEL
        TEXT "[parcel_number]/[area]/[land_use_code]"
        TYPE TRUETYPE FONT "sans" SIZE 10 COLOR "#3b2a1a"
        OUTLINECOLOR "#ffffff" OUTLINEWIDTH 1
        POSITION CC PARTIALS FALSE MAXSCALEDENOM {scale(17):.0f}
      END
    END''')
classes.append('''    CLASS
      STYLE COLOR "#e0e0e0" OPACITY 90 END
    END''')
open(f"{d}/fonts.txt", "w").write("sans /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf\n")
open(f"{d}/parcels.map", "w").write(f'''MAP
  NAME "geoplan_bench"
  EXTENT 11900000 1650000 12500000 1900000
  SIZE 256 256
  UNITS METERS
  FONTSET "{d}/fonts.txt"
  IMAGETYPE png
  OUTPUTFORMAT
    NAME "png"
    DRIVER AGG/PNG
    MIMETYPE "image/png"
    IMAGEMODE RGBA
    EXTENSION "png"
    TRANSPARENT ON
  END
  PROJECTION "init=epsg:3857" END
  WEB
    METADATA
      "wms_title" "geoplan bench"
      "wms_srs" "EPSG:3857 EPSG:4326 EPSG:5899"
      "wms_enable_request" "*"
      "wms_onlineresource" "http://127.0.0.1/mapserv?"
    END
  END
  LAYER
    NAME "parcels"
    TYPE POLYGON
    STATUS ON
    CONNECTIONTYPE POSTGIS
    CONNECTION "{conn}"
    DATA "geom from (select fid, geom, land_use_code, parcel_number, round(legal_area)::int as area from geoplan.parcels) as q using unique fid using srid=5899"
    PROCESSING "CLOSE_CONNECTION=DEFER"
    PROJECTION "init=epsg:5899" END
    CLASSITEM "land_use_code"
    LABELCACHE ON
    METADATA "wms_title" "parcels" END
{chr(10).join(classes)}
  END
END
''')
EOF
# MapServer 8 reads its own configuration first; the map file is set there.
cat > "$MS/mapserver.conf" <<EOF
CONFIG
  ENV
    MS_MAPFILE "$MS/parcels.map"
  END
END
EOF
NPROC=$(nproc)
cat > "$MS/lighttpd.conf" <<EOF
server.modules = ("mod_fastcgi")
server.document-root = "$MS"
server.port = $MS_PORT
server.bind = "127.0.0.1"
server.pid-file = "$MS/lighttpd.pid"
server.errorlog = "$MS/lighttpd.log"
fastcgi.server = ("/mapserv" => ((
  "bin-path" => "$(command -v mapserv)",
  "socket" => "$MS/mapserv.sock",
  "check-local" => "disable",
  "min-procs" => $NPROC, "max-procs" => $NPROC,
  "bin-environment" => ("MAPSERVER_CONFIG_FILE" => "$MS/mapserver.conf")
)))
EOF
lighttpd -D -f "$MS/lighttpd.conf" > "$MS/lighttpd.out" 2>&1 &
PIDS+=("$!")
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$MS_PORT/mapserv?SERVICE=WMS&REQUEST=GetCapabilities" && break; sleep 0.2; done
for s in 256x256 1024x768; do
  q=$(head -1 "$DATA/wms-$s.txt")
  ct=$(curl -s -o "$DATA/wms-mapserver-$s.png" -w '%{content_type}' "http://127.0.0.1:$MS_PORT/mapserv?$q")
  [ "$ct" = image/png ] || { echo "MapServer answered $ct:"; cat "$DATA/wms-mapserver-$s.png"; exit 1; }
done
echo
echo "## The same maps from MapServer $(mapserv -v | head -1 | awk '{print $3}') (FastCGI, $NPROC mapserv processes under lighttpd, PostGIS table geoplan.parcels)"
echo
echo "| run | conns | requests/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|---|"
run_wrk "MapServer 256x256" "$DATA/wms-256x256.txt" $MS_PORT "/mapserv?"; M256=$(cat "$DATA/last-rps")
run_wrk "MapServer 1024x768" "$DATA/wms-1024x768.txt" $MS_PORT "/mapserv?"; M1024=$(cat "$DATA/last-rps")
echo
echo "Throughput ratio geoplan / MapServer: 256x256 $(python3 -c "print(f'{$G256 / $M256:.1f}x')"), 1024x768 $(python3 -c "print(f'{$G1024 / $M1024:.1f}x')")."
echo "Sample images: $DATA/wms-{geoplan,mapserver}-{256x256,1024x768}.png"
echo
echo "report: $OUT"
