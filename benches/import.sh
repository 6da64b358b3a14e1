#!/usr/bin/env bash
# Import throughput: the 1,000,000-parcel set as a contractor's Shapefile
# (Vietnamese field names, a TOWGS84-less .prj) imported with one command
# into each store, replacing the parcels layer; time, features/s and peak
# RSS of `geoplan import`.
#
#   benches/import.sh     (PARCELS=1000000 PG=postgres://postgres@127.0.0.1:5432)
#
# BIN=<a geoplan binary> runs that instead of this tree's release build.
# Prints a markdown table and writes it to target/bench-data/import-report.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PARCELS=${PARCELS:-1000000}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
DB=geoplan_bench_import
DATA=target/bench-data
GPKG=$DATA/parcels-$PARCELS.gpkg
OUT=$DATA/import-report.md
mkdir -p "$DATA"
exec > >(tee "$OUT") 2>&1
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=${CARGO_TARGET_DIR:-target}/release/geoplan
fi
[ -f "$GPKG" ] || $BIN sample --seed 7 --parcels "$PARCELS" --out "$GPKG"
SHP=$DATA/thua-$PARCELS.shp
if [ ! -f "$SHP" ]; then
  ogr2ogr -f "ESRI Shapefile" -lco ENCODING=UTF-8 "$SHP" "$GPKG" -dialect sqlite -sql \
    "SELECT geom, commune_code AS MaXa, sheet_number AS SHBANDO, parcel_number AS SoThua, legal_area AS DienTich, land_use_code AS LoaiDat, address AS DiaChi FROM parcels"
  # What survey software writes: TM-3 107°45′ without the datum shift.
  cat > "${SHP%.shp}.prj" <<'PRJ'
PROJCS["VN_2000_TM3_107_45",GEOGCS["GCS_VN_2000",DATUM["D_Vietnam_2000",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",107.75],PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]
PRJ
fi
run() { # label, args…
  local label=$1; shift
  local t0 t1 rss
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$DATA/import-rss.txt" "$BIN" import "$SHP" --layer parcels --mode replace --report "$DATA/import-$label.json" "$@" > "$DATA/import-$label.txt"
  t1=$(date +%s.%N)
  rss=$(cat "$DATA/import-rss.txt")
  python3 - "$label" "$t0" "$t1" "$rss" "$DATA/import-$label.json" <<'PY'
import json, sys
label, t0, t1, rss, rep = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
r = json.load(open(rep))
s = t1 - t0
print(f"| {label} | {r['read']:,} | {r['inserted']:,} | {r['deleted']:,} | {r['rejected']:,} | {s:.1f} | {r['inserted']/s:,.0f} | {rss/1024:,.0f} |")
PY
}
echo "| store | read | inserted | deleted | rejected | seconds | features/s | peak RSS MB |"
echo "|---|---|---|---|---|---|---|---|"
cp data/sample.gpkg "$DATA/import-target.gpkg"
run gpkg --gpkg "$DATA/import-target.gpkg"
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
$BIN load --from data/sample.gpkg --database-url "$PG/$DB" > /dev/null
run postgis --database-url "$PG/$DB"
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
echo
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $PARCELS parcels from $SHP"
