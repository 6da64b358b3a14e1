#!/usr/bin/env bash
# Vector-tile benchmark on the 1,000,000-parcel set, release build, side by
# side with PostGIS answering the same tiles with ST_AsMVT(ST_AsMVTGeom(..))
# (what Martin and pg_tileserv run per request).
#
#   benches/tiles.sh        (PARCELS=1000000 PG=postgres://postgres@127.0.0.1:5432 DUR=10)
#
# BIN=<a geoplan binary> serves instead of this tree's release build.
#
# Before/after a change, side by side in one run: BASE=<an older geoplan
# binary> adds a first table where both binaries answer the same cold tile
# lists in turn (BASE, this build, BASE, this build: ROUNDS=2), with the
# ratios; AB_ONLY=1 stops after it.
#
# Prints markdown tables and writes them to target/bench-data/tiles-report.md:
#   1. throughput and p50/p99 latency, geoplan cold (cache off) and warm,
#      concurrency 16 and 64, wrk over loopback with keep-alive and gzip;
#   2. the PostGIS baseline on the same z15-16 tile list via pgbench (SQL
#      only: no HTTP, which favours the baseline), and the ratios;
#   3. feature counts of 50 tiles from both (no speed from dropped data);
#   4. the largest tile per zoom, and the engine's memory.
set -euo pipefail
cd "$(dirname "$0")/.."
PARCELS=${PARCELS:-1000000}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
DB=geoplan_bench
DUR=${DUR:-10}
DATA=target/bench-data
GPKG=$DATA/parcels-$PARCELS.gpkg
PORT=${PORT:-18091}
OUT=$DATA/tiles-report.md
PGBENCH=$(ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | tail -1)
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
mkdir -p "$DATA"
# Everything printed goes to the report too (no pipelines: servers started
# in a subshell would escape the cleanup trap).
exec > >(tee "$OUT") 2>&1
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=${CARGO_TARGET_DIR:-target}/release/geoplan
fi
[ -f "$GPKG" ] || $BIN sample --seed 7 --parcels "$PARCELS" --out "$GPKG"
have=$(psql "$PG/$DB" -tAc "SELECT count(*) FROM geoplan.parcels" 2>/dev/null || echo 0)
if [ "$have" != "$PARCELS" ]; then
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
  $BIN load --from "$GPKG" --database-url "$PG/$DB"
  psql "$PG/$DB" -qc "VACUUM ANALYZE"
fi

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# Tile lists from realistic viewports: 200 parcels as viewport centres, a
# 4x3 block of tiles (a 1280x800 screen of 512-px tiles, with its edges) at
# each zoom.
psql "$PG/$DB" -tA -F' ' -c "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Transform(ST_PointOnSurface(geom), 4326) c FROM geoplan.parcels TABLESAMPLE BERNOULLI (0.02) REPEATABLE (42) LIMIT 200) s" > "$DATA/centres.txt"
python3 - "$DATA" <<'EOF'
import math, sys
d = sys.argv[1]
centres = [tuple(map(float, l.split())) for l in open(f"{d}/centres.txt") if l.strip()]
def tile(lon, lat, z):
    n = 2 ** z; r = math.radians(lat)
    return int((lon + 180) / 360 * n), int((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * n)
bands = {"z10-13": range(10, 14), "z14": range(14, 15), "z15-16": range(15, 17)}
for name, zs in bands.items():
    seen, out = set(), []
    for lon, lat in centres:
        for z in zs:
            x, y = tile(lon, lat, z)
            for dx in (-2, -1, 0, 1):
                for dy in (-1, 0, 1):
                    t = (z, x + dx, y + dy)
                    if t not in seen:
                        seen.add(t); out.append(t)
    with open(f"{d}/tiles-{name}.txt", "w") as f:
        f.writelines(f"{z} {x} {y}\n" for z, x, y in out)
EOF
LAYERS_LOW=parcels,zoning_lots,roads,admin_units,water
paths() { # band layers -> file of URL paths
  awk -v L="$2" '{print "/tiles/" L "/" $1 "/" $2 "/" $3 ".mvt"}' "$DATA/tiles-$1.txt" > "$DATA/paths-$1.txt"
  echo "$DATA/paths-$1.txt"
}
P_LOW=$(paths z10-13 $LAYERS_LOW); P_14=$(paths z14 parcels); P_HI=$(paths z15-16 parcels)
cat > "$DATA/cycle.lua" <<'EOF'
local paths = {}
for line in io.lines(os.getenv("URLS")) do paths[#paths + 1] = line end
local i = 0
init = function(args) i = math.random(#paths) end
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], { ["Accept-Encoding"] = "gzip" })
end
EOF

start_server() { # config-file [binary]
  "${2:-$BIN}" --config "$1" serve --gpkg "$GPKG" --listen 127.0.0.1:$PORT > "$DATA/serve-tiles.log" 2>&1 &
  SERVER=$!; PIDS+=("$SERVER")
  until curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null; do
    kill -0 $SERVER 2>/dev/null || { cat "$DATA/serve-tiles.log"; exit 1; }
    sleep 0.3
  done
}
stop_server() { kill $SERVER; wait $SERVER 2>/dev/null || true; }
run_wrk() { # label paths-file conns -> table row
  local out
  out=$(URLS="$2" wrk -t2 -c"$3" -d"${DUR}s" --latency -s "$DATA/cycle.lua" "http://127.0.0.1:$PORT" 2>&1)
  local rps p50 p99 errs
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errs=$(awk '/Non-2xx/ {print $4}' <<<"$out")
  echo "| $1 | $3 | $rps | $p50 | $p99 | ${errs:-0} |"
}

echo "cache_bytes = 0" > "$DATA/cold.toml"; sed -i '1i [tiles]' "$DATA/cold.toml"
printf '[tiles]\ncache_bytes = 1073741824\n' > "$DATA/warm.toml"

if [ -n "${BASE:-}" ]; then
  ROUNDS=${ROUNDS:-2}
  declare -A RPS P50 P99
  echo "## Before/after, cold (cache off): BASE=$BASE vs $BIN, $ROUNDS rounds each, alternating, wrk -t2 ${DUR}s"
  echo
  for round in $(seq 1 "$ROUNDS"); do
    for side in base new; do
      bin=$BIN; [ $side = base ] && bin=$BASE
      start_server "$DATA/cold.toml" "$bin"
      for band in z15-16 z14 z10-13; do
        f=$P_HI; [ $band = z14 ] && f=$P_14; [ $band = z10-13 ] && f=$P_LOW
        for c in 16 64; do
          read -r _ _ _ _ _ rps _ p50 _ p99 _ < <(run_wrk x "$f" $c)
          k="$band $c $side"
          RPS[$k]="${RPS[$k]:-} $rps"; P50[$k]="${P50[$k]:-} $p50"; P99[$k]="${P99[$k]:-} $p99"
        done
      done
      stop_server
    done
  done
  echo "| tiles | conns | req/s before | req/s after | after/before (mean of rounds) | p50 before | p50 after | p99 before | p99 after |"
  echo "|---|---|---|---|---|---|---|---|---|"
  mean() { tr ' ' '\n' | grep -v '^$' | awk '{s+=$1} END {print s / NR}'; }
  for band in z15-16 z14 z10-13; do
    for c in 16 64; do
      b=$(mean <<<"${RPS[$band $c base]}"); n=$(mean <<<"${RPS[$band $c new]}")
      echo "| $band | $c |${RPS[$band $c base]} |${RPS[$band $c new]} | $(awk -v b="$b" -v n="$n" 'BEGIN {printf "%.3f", n / b}') |${P50[$band $c base]} |${P50[$band $c new]} |${P99[$band $c base]} |${P99[$band $c new]} |"
    done
  done
  echo
  [ -n "${AB_ONLY:-}" ] && exit 0
fi

echo "## Whole server: geoplan (release, $PARCELS parcels, wrk -t2, ${DUR}s, Accept-Encoding: gzip)"
echo
echo "Tile lists: 200 viewports (4x3 tiles each) per zoom; z10-13 over $LAYERS_LOW, z14 and z15-16 over parcels."
echo "$(wc -l < "$P_LOW") z10-13 tiles, $(wc -l < "$P_14") z14 tiles, $(wc -l < "$P_HI") z15-16 tiles."
echo
echo "| run | conns | requests/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|---|"
start_server "$DATA/cold.toml"
for c in 16 64; do
  run_wrk "cold z15-16 parcels" "$P_HI" $c
  run_wrk "cold z14 parcels (merged)" "$P_14" $c
  run_wrk "cold z10-13 five layers" "$P_LOW" $c
done
RSS_COLD=$(awk '/VmHWM/ {print $2}' /proc/$SERVER/status)
stop_server
start_server "$DATA/warm.toml"
for f in "$P_HI" "$P_14" "$P_LOW"; do  # fill the cache
  xargs -P4 -I{} curl -s -o /dev/null -H 'Accept-Encoding: gzip' "http://127.0.0.1:$PORT{}" < "$f"
done
for c in 16 64; do
  run_wrk "warm z15-16 parcels" "$P_HI" $c
  run_wrk "warm z10-13 five layers" "$P_LOW" $c
done
RSS_WARM=$(awk '/VmHWM/ {print $2}' /proc/$SERVER/status)
echo
echo "Peak RSS: cold run $((RSS_COLD / 1024)) MB, warm run (cache filled) $((RSS_WARM / 1024)) MB."
grep -E "^engine" "$DATA/serve-tiles.log" || true

# The baseline: PostGIS builds the same z15-16 tiles, as Martin does.
psql "$PG/$DB" -q <<EOF
DROP TABLE IF EXISTS bench_tiles;
CREATE TABLE bench_tiles (id serial PRIMARY KEY, z int, x int, y int);
\copy bench_tiles (z, x, y) FROM program 'tr " " "\t" < $DATA/tiles-z15-16.txt'
ANALYZE bench_tiles;
EOF
N=$(psql "$PG/$DB" -tAc "SELECT count(*) FROM bench_tiles")
cat > "$DATA/mvt.sql" <<EOF
\set i random(1, $N)
SELECT length(ST_AsMVT(q, 'parcels', 4096, 'geom')) FROM (
  SELECT ST_AsMVTGeom(ST_Transform(p.geom, 3857), ST_TileEnvelope(t.z, t.x, t.y), 4096, 64, true) AS geom,
         p.fid, p.commune_code, p.sheet_number, p.parcel_number, p.legal_area, p.land_use_code
  FROM geoplan.parcels p, bench_tiles t
  WHERE t.id = :i
    AND p.geom && ST_Transform(ST_TileEnvelope(t.z, t.x, t.y, margin => 64.0 / 4096), 5899)
) q;
EOF
echo
echo "## Baseline: PostGIS ST_AsMVT on the same z15-16 list (pgbench -j2, ${DUR}s, SQL only)"
echo
echo "| conns | tiles/s | p50 ms | p99 ms |"
echo "|---|---|---|---|"
for c in 16 64; do
  rm -f "$DATA"/pgbench_log.*
  (cd "$DATA" && "$PGBENCH" -n -c $c -j 2 -T "$DUR" -f mvt.sql -l "$PG/$DB" > pgbench.out 2>&1)
  tps=$(awk '/^tps/ {print $3; exit}' "$DATA/pgbench.out")
  read -r p50 p99 < <(cat "$DATA"/pgbench_log.* | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END {printf "%.1f %.1f\n", a[int(NR*0.5)]/1000, a[int(NR*0.99)]/1000}')
  echo "| $c | $tps | $p50 | $p99 |"
done

# Correctness beside speed: features per tile from both, 50 tiles.
echo
echo "## Feature counts per tile, geoplan vs PostGIS (50 z15-16 tiles)"
echo
tmp=$(mktemp -d)
head -50 "$DATA/tiles-z15-16.txt" | while read -r z x y; do
  mkdir -p "$tmp/$z/$x"
  curl -s -o "$tmp/$z/$x/$y.pbf" "http://127.0.0.1:$PORT/tiles/parcels/$z/$x/$y.mvt"
  g=0; [ -s "$tmp/$z/$x/$y.pbf" ] && g=$(ogrinfo -ro -so -al "$tmp/$z/$x/$y.pbf" 2>/dev/null | awk '/Feature Count/ {print $3}')
  b=$(psql "$PG/$DB" -tAc "SELECT count(*) FROM (SELECT ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope($z,$x,$y), 4096, 64, true) g FROM geoplan.parcels WHERE geom && ST_Transform(ST_TileEnvelope($z,$x,$y, margin => 64.0/4096), 5899)) s WHERE g IS NOT NULL")
  echo "$z/$x/$y $g $b"
done > "$DATA/counts.txt"
rm -rf "$tmp"
awk '{g+=$2; b+=$3; if ($2!=$3) d++; if ($3>0) { r=($2-$3)/$3; if (r<0) r=-r; s+=r; n++ } }
     END { printf "tiles %d, features geoplan %d, PostGIS %d, tiles with different counts %d, mean relative difference %.4f\n", NR, g, b, d, (n ? s/n : 0) }' "$DATA/counts.txt"

# Largest tile per zoom: every tile over the parcels' extent at z0-13 (five
# layers), the 10 densest tiles by parcel count at z14-16 (parcels).
echo
echo "## Largest tile per zoom (uncompressed MVT bytes)"
echo
echo "| zoom | layers | tiles fetched | largest bytes | at |"
echo "|---|---|---|---|---|"
read -r W S E N < <(curl -s "http://127.0.0.1:$PORT/layers/parcels" | python3 -c "import json,sys; b=json.load(sys.stdin)['extent']['bbox']; print(*b)")
for z in $(seq 0 16); do
  if [ "$z" -le 13 ]; then
    layers=$LAYERS_LOW
    python3 - "$z" "$W" "$S" "$E" "$N" > "$DATA/zoom-tiles.txt" <<'EOF'
import math, sys
z = int(sys.argv[1]); w, s, e, n = map(float, sys.argv[2:])
N = 2 ** z
def t(lon, lat):
    r = math.radians(lat)
    return int((lon + 180) / 360 * N), int((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * N)
x0, y0 = t(w, n); x1, y1 = t(e, s)
for x in range(x0, x1 + 1):
    for y in range(y0, y1 + 1):
        print(z, x, y)
EOF
  else
    layers=parcels
    psql "$PG/$DB" -tA -F' ' -c "WITH c AS (SELECT ST_Transform(ST_PointOnSurface(geom), 3857) p FROM geoplan.parcels), s AS (SELECT 40075016.685578488 / 2^$z AS span)
      SELECT $z, floor((ST_X(p) + 20037508.342789244) / span)::int x, floor((20037508.342789244 - ST_Y(p)) / span)::int y FROM c, s GROUP BY 2, 3 ORDER BY count(*) DESC LIMIT 10" > "$DATA/zoom-tiles.txt"
  fi
  best=0; at=-; n=0
  while read -r zz x y; do
    b=$(curl -s -o /dev/null -w '%{size_download}' "http://127.0.0.1:$PORT/tiles/$layers/$zz/$x/$y.mvt")
    n=$((n + 1))
    if [ "$b" -gt "$best" ]; then best=$b; at="$zz/$x/$y"; fi
  done < "$DATA/zoom-tiles.txt"
  echo "| $z | $layers | $n | $best | $at |"
done
echo
echo "report: $OUT"
