#!/usr/bin/env bash
# Benchmarks of the foundation on the 1,000,000-parcel set, release build.
#   benches/run.sh            (PARCELS=1000000 PG=postgres://postgres@127.0.0.1:5432)
# Prints: generation time, load time from GeoPackage and from PostGIS, peak
# RSS against raw coordinate bytes, then the criterion benches (engine and
# PostGIS side by side on the same boxes).
set -euo pipefail
cd "$(dirname "$0")/.."
PARCELS=${PARCELS:-1000000}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
DB=geoplan_bench
DATA=target/bench-data
GPKG=$DATA/parcels-$PARCELS.gpkg
BIN=target/release/geoplan
PORT=${PORT:-18080}
mkdir -p "$DATA"
cargo build --release --quiet

if [ ! -f "$GPKG" ]; then
  echo "== generating $PARCELS parcels"
  /usr/bin/time -f "sample: %e s, peak RSS %M KB" $BIN sample --seed 7 --parcels "$PARCELS" --out "$GPKG"
fi
ls -l "$GPKG"

serve_and_measure() { # label, args...
  local label=$1; shift
  local t0=$(date +%s.%N)
  $BIN serve --listen 127.0.0.1:$PORT "$@" > "$DATA/serve.log" 2>&1 &
  local pid=$!
  until curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null; do
    kill -0 $pid 2>/dev/null || { cat "$DATA/serve.log"; exit 1; }
    sleep 0.2
  done
  local t1=$(date +%s.%N)
  local hwm=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
  local rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
  echo "$label: ready after $(echo "$t1 - $t0" | bc) s; peak RSS $((hwm/1024)) MB, RSS now $((rss/1024)) MB"
  grep -E "engine|layers from" "$DATA/serve.log" || true
  kill $pid; wait $pid 2>/dev/null || true
}

echo "== load from GeoPackage"
serve_and_measure "GeoPackage" --gpkg "$GPKG"

echo "== load into PostGIS ($DB)"
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
/usr/bin/time -f "geoplan load: %e s" $BIN load --from "$GPKG" --database-url "$PG/$DB"
psql "$PG/$DB" -qc "VACUUM ANALYZE"
echo "== load from PostGIS"
serve_and_measure "PostGIS" --database-url "$PG/$DB"

echo "== criterion: engine vs PostGIS on the same boxes"
GEOPLAN_BENCH_GPKG=$GPKG GEOPLAN_BENCH_PG=$PG/$DB cargo bench --bench engine

echo "== criterion: planning lookups, answers, statistics and site search (beside PostGIS SQL)"
GEOPLAN_BENCH_GPKG=$GPKG GEOPLAN_BENCH_PG=$PG/$DB cargo bench --bench planning
