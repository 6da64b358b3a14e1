#!/usr/bin/env bash
# Vector-tile benchmark: geoplan's /tiles endpoint on the 1,000,000-parcel
# set (release build, GeoPackage store), side by side with PostGIS answering
# the same tiles the way Martin and pg_tileserv do (ST_AsMVT over
# ST_AsMVTGeom), on the same machine in the same run.
#
#   benches/tiles_vs_postgis.sh     (env: PARCELS=1000000 PG=postgres://postgres@127.0.0.1:5432
#                         DUR=15 CENTRES=40 SEED=42 PORT=18181 NO_BUILD=1 to skip cargo build)
#
# Steps (about 10 minutes on 2 cores):
#   1. dataset: target/bench-data/parcels-$PARCELS.gpkg and the PostGIS
#      database geoplan_bench, the same ones benches/run.sh uses (made or
#      reloaded only when missing or of another size);
#   2. tile lists from realistic viewports: CENTRES random parcels (fixed
#      seed) as centres of a 1280x800 screen of 512-px tiles (the 4x3 tile
#      block around the centre) at z10..16; lists per band (z10-13, z14-16,
#      z15-16), combined (z10-16), and z10-13 over five layers;
#   3. geoplan under wrk (2 threads, keep-alive, gzip, 16 and 64
#      connections, DUR s each), cold ([tiles] cache_bytes = 0) and warm
#      (default config, after one pass over every URL), and cold with
#      parcels_detail_zoom = 14 on the z14-16 list (the default dissolves
#      parcels by land use at z14, which PostGIS does not); response sizes
#      per zoom (each URL once, raw); peak RSS (VmHWM);
#   4. the baseline: pgbench running ST_AsMVT on the same z14-16 (and
#      z15-16) tile list at the same concurrency, and the ratios;
#   5. feature counts of ~50 z14-16 tiles, geoplan (GDAL's MVT driver) vs
#      PostGIS;
#   6. the largest tile per zoom z0-16 over the whole dataset.
# Prints markdown tables and saves them to target/bench-data/tiles-vs-postgis.md
# (raw outputs stay in target/bench-data/tiles-vs-postgis/).
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
cd "${GEOPLAN_ROOT:-$BENCH_DIR/..}"
PARCELS=${PARCELS:-1000000}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
DUR=${DUR:-15}
CENTRES=${CENTRES:-40}
SEED=${SEED:-42}
PORT=${PORT:-18181}
DB=geoplan_bench
DATA=target/bench-data
GPKG=$DATA/parcels-$PARCELS.gpkg
BIN=target/release/geoplan
W=${WORK:-$DATA/tiles-vs-postgis}
OUT=${OUT:-$DATA/tiles-vs-postgis.md}
MULTI=parcels,zoning_lots,roads,admin_units,water
PGBENCH=${PGBENCH:-$(ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | sort -V | tail -1)}
PGBENCH=${PGBENCH:-$(command -v pgbench || true)}
PY="python3 $BENCH_DIR/tiles_vs_postgis.py"
LUA=$BENCH_DIR/tiles_vs_postgis.lua
# Serve the GeoPackage whatever the environment says.
unset DATABASE_URL GEOPLAN_CONFIG

T_START=$(date +%s)
for tool in wrk curl psql ogrinfo python3 awk; do
  command -v $tool >/dev/null || { echo "missing $tool (apt-get install -y wrk curl postgresql-client gdal-bin python3)" >&2; exit 1; }
done
[ -x "$PGBENCH" ] || { echo "missing pgbench (apt-get install -y postgresql-client)" >&2; exit 1; }
mkdir -p "$DATA"
rm -rf "$W"; mkdir -p "$W"
meta() { printf '%s\t%s\n' "$1" "$2" >> "$W/meta.tsv"; }
step() { echo "== $(date +%T) $*" >&2; }
psqlq() { psql "$PG/$DB" -X -v ON_ERROR_STOP=1 -qtA "$@"; }

[ "${NO_BUILD:-}" = 1 ] || cargo build --release --quiet

# ---------------------------------------------------------------- 1. data
if [ ! -f "$GPKG" ]; then
  step "generating $PARCELS parcels"
  "$BIN" sample --seed 7 --parcels "$PARCELS" --out "$GPKG"
fi
have=$(psqlq -c "SELECT count(*) FROM geoplan.parcels" 2>/dev/null || echo missing)
if [ "$have" != "$PARCELS" ]; then
  step "loading $GPKG into $DB (parcels in the database: $have)"
  psql "$PG/postgres" -X -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
  "$BIN" load --from "$GPKG" --database-url "$PG/$DB"
  psqlq -c "VACUUM ANALYZE"
fi

meta started "$(date -u '+%Y-%m-%d %H:%M UTC')"
meta command "$(printf 'PARCELS=%s DUR=%s CENTRES=%s %s' "$PARCELS" "$DUR" "$CENTRES" "$0")"
meta parcels "$(printf "%'d" "$PARCELS" 2>/dev/null || echo "$PARCELS")"
meta machine "$(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo) RAM, load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
meta version "$("$BIN" --version | awk '{print $2}') ($(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src 2>/dev/null || echo ', src/ modified'))"
meta pg_version "$(psqlq -c 'SHOW server_version' | awk '{print $1}')"
meta postgis_version "$(psqlq -c 'SELECT postgis_lib_version()')"
meta pg_jit "$(psqlq -c 'SHOW jit')"
meta pg_parallel "$(psqlq -c 'SHOW max_parallel_workers_per_gather')"
meta dur "$DUR"; meta centres "$CENTRES"; meta seed "$SEED"; meta multi "$MULTI"; meta densest 20

# ---------------------------------------------------------------- 2. tile lists
step "tile lists from $CENTRES viewports"
# Random parcels, deterministic: ordered by a hash of fid and the seed.
psqlq -F' ' -c "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Transform(ST_PointOnSurface(geom), 4326) c
  FROM geoplan.parcels ORDER BY md5(fid::text || ':$SEED') LIMIT $CENTRES) s" > "$W/centres.txt"
read -r N_HI N_14 < <($PY lists "$W/centres.txt" "$W" "$MULTI")
wc -l "$W"/lists/*.txt | sed 's/^/   /' >&2
# Parcel counts per z16 tile (centroids in Web Mercator), for the densest tiles.
psqlq -F' ' -c "SELECT floor((ST_X(c) + 20037508.342789244) / (40075016.685578488 / 65536))::int,
    floor((20037508.342789244 - ST_Y(c)) / (40075016.685578488 / 65536))::int, count(*)
  FROM (SELECT ST_Transform(ST_Centroid(geom), 3857) c FROM geoplan.parcels) s GROUP BY 1, 2" > "$W/z16-counts.txt"

# ---------------------------------------------------------------- helpers
SERVERS=()
SERVER=
cleanup() {
  local p
  for p in "${SERVERS[@]}"; do
    kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1-min load average, and a star when processes this script did not start
# compete for the cores (another geoplan, wrk, pgbench, a Rust build).
machine_state() {
  local others
  others=$(ps -eo pid=,comm= | awk -v me="${SERVER:-0}" '$1 != me && $2 ~ /^(geoplan|wrk|pgbench|rustc|cargo.*|cc1|ld|chrom.*|node)$/' | wc -l)
  printf '%s%s' "$(cut -d' ' -f1 /proc/loadavg)" "$([ "$others" -gt 0 ] && echo "*$others" || true)"
}

status_kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$SERVER/status"; }

start_server() { # mode [global flags...]
  local mode=$1; shift
  if curl -s -o /dev/null "http://127.0.0.1:$PORT/health"; then
    echo "something already listens on port $PORT; set PORT=" >&2; exit 1
  fi
  local t0; t0=$(date +%s.%N)
  "$BIN" "$@" serve --gpkg "$GPKG" --listen "127.0.0.1:$PORT" > "$W/serve-$mode.log" 2>&1 &
  SERVER=$!; SERVERS=("$SERVER")
  until curl -sf -o /dev/null "http://127.0.0.1:$PORT/ready"; do
    if ! kill -0 "$SERVER" 2>/dev/null; then
      echo "geoplan exited:" >&2; cat "$W/serve-$mode.log" >&2; exit 1
    fi
    sleep 0.2
  done
  meta "${mode}_ready_s" "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')"
  meta "${mode}_rss_ready" $(($(status_kb VmRSS) / 1024))
  step "geoplan ($mode) ready, pid $SERVER"
}

stop_server() {
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  SERVERS=(); SERVER=
}

# Fetches every path of a file once, sequentially on one keep-alive
# connection; writes status, bytes, seconds, URL per line.
fetch_all() { # paths-file out-tsv [gzip]
  local cfg="$W/curl.cfg" h=()
  awk -v b="http://127.0.0.1:$PORT" '{printf "url = \"%s%s\"\noutput = \"/dev/null\"\n", b, $0}' "$1" > "$cfg"
  [ "${3:-}" = gzip ] && h=(-H 'Accept-Encoding: gzip')
  curl -s "${h[@]}" -K "$cfg" -w '%{http_code}\t%{size_download}\t%{time_total}\t%{url_effective}\n' > "$2"
  check_errors "$2"
}

# Any answer other than 200 or 204 goes to errors.txt with its body.
check_errors() { # tsv
  local st url
  awk -F'\t' '$1 != 200 && $1 != 204 {print $1 "\t" $4}' "$1" | head -20 | while IFS=$'\t' read -r st url; do
    printf '%s  HTTP %s  (%s)\n  %s\n' "$url" "$st" "$(basename "$1")" \
      "$(curl -s --max-time 30 "$url" | head -c 400)" >> "$W/errors.txt"
  done
}

# Features per tile of the sampled tiles, decoded with GDAL's MVT driver
# (the path z/x/y.pbf gives it the tile address; CLIP=NO keeps the
# features that lie only in the buffer, as ST_AsMVTGeom does).
geoplan_counts() { # out-file dir
  local z x y f st n
  : > "$1"
  while read -r z x y; do
    f="$2/$z/$x/$y.pbf"
    mkdir -p "$(dirname "$f")"
    st=$(curl -s -o "$f" -w '%{http_code}' "http://127.0.0.1:$PORT/tiles/parcels/$z/$x/$y.mvt")
    n=0
    if [ "$st" = 200 ]; then
      n=$(ogrinfo -ro -so -al -oo CLIP=NO "$f" 2>/dev/null | awk '/^Feature Count:/ {s += $3} END {print s + 0}')
    elif [ "$st" != 204 ]; then
      printf 'http://127.0.0.1:%s/tiles/parcels/%s/%s/%s.mvt  HTTP %s (count check)\n  %s\n' "$PORT" "$z" "$x" "$y" "$st" "$(head -c 400 "$f")" >> "$W/errors.txt"
    fi
    echo "$z $x $y $n" >> "$1"
  done < "$W/sample.txt"
}

run_wrk() { # mode list conns
  local mode=$1 list=$2 c=$3 load out line
  load=$(machine_state)
  out=$(wrk -t2 -c"$c" -d"${DUR}s" --timeout 10s --latency -s "$LUA" "http://127.0.0.1:$PORT" -- "$W/lists/$list.txt" 2 2>&1) \
    || { echo "$out" >&2; exit 1; }
  echo "$out" > "$W/wrk-$mode-$list-c$c.txt"
  line=$(grep '^WRK ' <<<"$out") || { echo "$out" >&2; exit 1; }
  printf 'geoplan\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$list" "$c" "$load" "$line" >> "$W/runs.tsv"
  echo "   $mode $list c$c: $(awk '/Requests\/sec/ {print $2 " req/s"}' <<<"$out"), p50 $(awk '$1 == "50%" {print $2}' <<<"$out"), p99 $(awk '$1 == "99%" {print $2}' <<<"$out")" >&2
}

LISTS="parcels-z14-16 parcels-z15-16 parcels-z10-13 multi-z10-13 parcels-z10-16"

# ---------------------------------------------------------------- 3a. cold
printf '[tiles]\ncache_bytes = 0\n' > "$W/cold.toml"
start_server cold --config "$W/cold.toml"
step "cold runs (${DUR}s each)"
for list in $LISTS; do
  for c in 16 64; do run_wrk cold "$list" $c; done
done
meta cold_hwm_runs $(($(status_kb VmHWM) / 1024))

step "response sizes (each distinct URL once, raw)"
fetch_all "$W/lists/unique.txt" "$W/sizes-raw.tsv"

step "geoplan tiles for the feature-count check"
$PY sample "$W" 50 > "$W/sample.txt"
geoplan_counts "$W/counts-geoplan.txt" "$W/mvt"

step "largest tiles per zoom"
# Every tile over the extent at z0-13, and the densest by parcel count at z13-16.
read -r PW PS PE PN < <(curl -sf "http://127.0.0.1:$PORT/layers/parcels" |
  python3 -c 'import json, sys; print(*json.load(sys.stdin)["extent"]["bbox"])')
read -r MW MS ME MN < <(curl -sf "http://127.0.0.1:$PORT/tiles/$MULTI.json" |
  python3 -c 'import json, sys; print(*json.load(sys.stdin)["bounds"])')
{
  $PY cover 0 13 "$PW" "$PS" "$PE" "$PN" | awk '{print "/tiles/parcels/" $1 "/" $2 "/" $3 ".mvt"}'
  $PY cover 0 13 "$MW" "$MS" "$ME" "$MN" | awk -v L="$MULTI" '{print "/tiles/" L "/" $1 "/" $2 "/" $3 ".mvt"}'
  $PY densest "$W/z16-counts.txt" 13 16 20 | awk -v L="$MULTI" '{
    print "/tiles/parcels/" $1 "/" $2 "/" $3 ".mvt"; print "/tiles/" L "/" $1 "/" $2 "/" $3 ".mvt"}'
} | awk '!seen[$0]++' > "$W/largest-paths.txt"
fetch_all "$W/largest-paths.txt" "$W/largest-raw.tsv"
meta cold_hwm_end $(($(status_kb VmHWM) / 1024))
stop_server

# ---------------------------------------------------------------- 3b. no merge
# geoplan's default dissolves parcels by land use below z15, so its z14
# tiles are less work than PostGIS's. Same work: parcels_detail_zoom = 14.
printf '[tiles]\ncache_bytes = 0\nparcels_detail_zoom = 14\n' > "$W/nomerge.toml"
start_server nomerge --config "$W/nomerge.toml"
step "cold runs without merging at z14 (${DUR}s each)"
for c in 16 64; do run_wrk nomerge parcels-z14-16 $c; done
meta nomerge_hwm_runs $(($(status_kb VmHWM) / 1024))
grep '^/tiles/parcels/14/' "$W/lists/unique.txt" > "$W/lists/z14-unique.paths"
fetch_all "$W/lists/z14-unique.paths" "$W/sizes-raw-nomerge.tsv"
geoplan_counts "$W/counts-nomerge.txt" "$W/mvt-nomerge"
grep '^/tiles/parcels/1[456]/' "$W/largest-paths.txt" > "$W/largest-nomerge.paths"
fetch_all "$W/largest-nomerge.paths" "$W/largest-raw-nomerge.tsv"
meta nomerge_hwm_end $(($(status_kb VmHWM) / 1024))
stop_server

# ---------------------------------------------------------------- 3c. warm
start_server warm
step "filling the cache: every distinct URL once, gzip"
t0=$(date +%s.%N)
fetch_all "$W/lists/unique.txt" "$W/sizes-gzip.tsv" gzip
meta fill "$(wc -l < "$W/lists/unique.txt") tiles in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s"
fetch_all "$W/largest-paths.txt" "$W/largest-gzip.tsv" gzip
step "warm runs (${DUR}s each)"
for list in $LISTS; do
  for c in 16 64; do run_wrk warm "$list" $c; done
done
meta warm_hwm_runs $(($(status_kb VmHWM) / 1024))
meta warm_hwm_end $(($(status_kb VmHWM) / 1024))
grep -E '^engine' "$W/serve-warm.log" | head -1 | sed 's/^/   /' >&2 || true
stop_server

# ---------------------------------------------------------------- 4. baseline
step "PostGIS baseline (pgbench, ${DUR}s each)"
psqlq <<EOF
DROP TABLE IF EXISTS bench_tiles;
CREATE TABLE bench_tiles (id serial PRIMARY KEY, z int, x int, y int);
\copy bench_tiles (z, x, y) FROM '$(realpath "$W/lists/bench_tiles.tsv")'
ANALYZE bench_tiles;
EOF
cat > "$W/baseline.sql" <<'EOF'
\set i random(:lo, :hi)
SELECT z, x, y FROM bench_tiles WHERE id = :i \gset
SELECT length(ST_AsMVT(q, 'parcels', 4096, 'geom')) FROM (
  SELECT ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope(:z, :x, :y), 4096, 64, true) AS geom,
         commune_code, sheet_number, parcel_number, legal_area, land_use_code
  FROM geoplan.parcels
  WHERE geom && ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => 64.0 / 4096), 5899)
) q;
EOF
run_pgbench() { # list lo hi conns
  local d="$W/pgbench-$1-c$4" load tps failed
  mkdir -p "$d"
  load=$(machine_state)
  "$PGBENCH" -n -c "$4" -j 2 -T "$DUR" -f "$W/baseline.sql" -D lo="$2" -D hi="$3" \
    -l --log-prefix="$d/log" "$PG/$DB" > "$d/out.txt" 2>&1 || { cat "$d/out.txt" >&2; exit 1; }
  tps=$(awk '/^tps = / {print $3; exit}' "$d/out.txt")
  failed=$(awk '/number of failed transactions/ {print $5; exit}' "$d/out.txt")
  printf 'postgis\tbaseline\t%s\t%s\t%s\tPGB tps=%s failed=%s logdir=%s\n' "$1" "$4" "$load" "$tps" "${failed:-0}" "$d" >> "$W/runs.tsv"
  echo "   baseline $1 c$4: $tps tiles/s" >&2
}
for c in 16 64; do
  run_pgbench parcels-z14-16 1 "$N_HI" $c
  run_pgbench parcels-z15-16 $((N_14 + 1)) "$N_HI" $c
done

# ---------------------------------------------------------------- 5. counts
step "PostGIS feature counts of the sampled tiles"
values=$(awk '{printf "%s(%d,%d,%d)", (NR > 1 ? "," : ""), $1, $2, $3}' "$W/sample.txt")
psqlq -F' ' -c "SELECT t.z, t.x, t.y,
    (SELECT count(*) FROM geoplan.parcels p
      WHERE p.geom && ST_Transform(ST_TileEnvelope(t.z, t.x, t.y, margin => 64.0 / 4096), 5899)
        AND ST_AsMVTGeom(ST_Transform(p.geom, 3857), ST_TileEnvelope(t.z, t.x, t.y), 4096, 64, true) IS NOT NULL),
    (SELECT count(*) FROM geoplan.parcels p
      WHERE ST_Intersects(p.geom, ST_Transform(ST_TileEnvelope(t.z, t.x, t.y, margin => 64.0 / 4096), 5899)))
  FROM (VALUES $values) t(z, x, y)" > "$W/counts-postgis.txt"
awk 'FILENAME == ARGV[1] {g[$1 " " $2 " " $3] = $4; next}
     FILENAME == ARGV[2] {m[$1 " " $2 " " $3] = $4; next}
     {k = $1 " " $2 " " $3; print $1, $2, $3, g[k], $4, $5, m[k]}' \
  "$W/counts-geoplan.txt" "$W/counts-nomerge.txt" "$W/counts-postgis.txt" > "$W/counts.tsv"

# ---------------------------------------------------------------- report
meta wall "$(( $(date +%s) - T_START )) s"
$PY report "$W" | tee "$OUT"
echo >&2
echo "report: $OUT (raw outputs in $W/); wall time $(( $(date +%s) - T_START )) s" >&2
