#!/usr/bin/env bash
# Time from an SQL commit to a fresh tile, on the 1,000,000-parcel set served
# from PostGIS (release build): geoplan follows NOTIFY, re-reads the changed
# parcel, swaps in a new snapshot and drops the stale tiles.
#
#   benches/edit_latency.sh      (needs the geoplan_bench database of benches/run.sh)
#
# For a few parcels: fetch the z16 and z14 tiles over it (cached), change its
# land-use code in SQL, and poll both tiles every 5 ms until their ETag
# changes. Prints the time per edit and zoom.
set -euo pipefail
cd "$(dirname "$0")/.."
PG=${PG:-postgres://postgres@127.0.0.1:5432}
DB=geoplan_bench
BIN=target/release/geoplan
PORT=${PORT:-18093}
cargo build --release --quiet
$BIN serve --database-url "$PG/$DB" --listen 127.0.0.1:$PORT > target/bench-data/serve-edit.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null; do
  kill -0 $SERVER 2>/dev/null || { cat target/bench-data/serve-edit.log; exit 1; }
  sleep 0.3
done
etag() { curl -s -D - -o /dev/null "http://127.0.0.1:$PORT/tiles/parcels/$1.mvt" | awk 'tolower($1) == "etag:" {print $2}' | tr -d '\r'; }
echo "| parcel | zoom | ms from running the UPDATE (psql) to a new tile |"
echo "|---|---|---|"
for fid in 123457 456790 789013; do
  read -r lon lat code < <(psql "$PG/$DB" -tA -F' ' -c "SELECT ST_X(c), ST_Y(c), land_use_code FROM (SELECT ST_Transform(ST_PointOnSurface(geom), 4326) c, land_use_code FROM geoplan.parcels WHERE fid = $fid) s")
  new=$([ "$code" = TMD ] && echo ODT || echo TMD)
  declare -A before=()
  tiles=()
  for z in 16 14; do
    t=$(python3 -c "import math; z=$z; n=2**z; r=math.radians($lat); print(f'{z}/{int(($lon+180)/360*n)}/{int((1-math.log(math.tan(r)+1/math.cos(r))/math.pi)/2*n)}')")
    tiles+=("$t"); before[$t]=$(etag "$t"); etag "$t" >/dev/null
  done
  t0=$(date +%s%N)
  psql "$PG/$DB" -qc "UPDATE geoplan.parcels SET land_use_code = '$new' WHERE fid = $fid"
  for t in "${tiles[@]}"; do
    while [ "$(etag "$t")" = "${before[$t]}" ]; do
      [ $(( ($(date +%s%N) - t0) / 1000000 )) -gt 20000 ] && { echo "| $fid | ${t%%/*} | no change after 20 s |"; continue 2; }
      sleep 0.005
    done
    echo "| $fid | ${t%%/*} | $(( ($(date +%s%N) - t0) / 1000000 )) |"
  done
  psql "$PG/$DB" -qc "UPDATE geoplan.parcels SET land_use_code = '$code' WHERE fid = $fid"
done
