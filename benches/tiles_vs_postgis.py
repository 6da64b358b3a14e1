#!/usr/bin/env python3
"""Helpers of benches/tiles_vs_postgis.sh (standard library only).

  tiles_vs_postgis.py lists CENTRES WORKDIR MULTI     tile lists from viewport centres
  tiles_vs_postgis.py sample WORKDIR N                ~N z14-16 tiles for the count check
  tiles_vs_postgis.py cover Z0 Z1 W S E N             every tile over a CRS84 box
  tiles_vs_postgis.py densest COUNTS Z0 Z1 K          K densest tiles per zoom from z16 counts
  tiles_vs_postgis.py report WORKDIR                  the markdown report
"""
import glob
import math
import os
import sys
from collections import defaultdict

VIEW_W, VIEW_H, TILE_PX = 1280, 800, 512
ZOOMS = range(10, 17)
BIG = 500_000  # bytes: flag tiles above this


def frac_tile(lon, lat, z):
    n = 2 ** z
    lat = max(min(lat, 85.0511287798), -85.0511287798)
    x = (lon + 180.0) / 360.0 * n
    y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    return x, y


def viewport(lon, lat, z):
    """The 4x3 block of tiles around a 1280x800 viewport centred on lon/lat.

    The screen spans 2.5 x 1.5625 tiles of 512 px; the 4x3 block whose
    centre is nearest the viewport centre always contains it."""
    n = 2 ** z
    fx, fy = frac_tile(lon, lat, z)
    c0 = math.floor(fx + 0.5) - 2
    r0 = math.floor(fy) - 1
    return [(z, x, y) for y in range(r0, r0 + 3) for x in range(c0, c0 + 4)
            if 0 <= x < n and 0 <= y < n]


def write(path, lines):
    with open(path, "w") as f:
        f.writelines(line + "\n" for line in lines)


def cmd_lists(centres_file, work, multi):
    centres = [tuple(map(float, l.split()[:2])) for l in open(centres_file) if l.strip()]
    d = os.path.join(work, "lists")
    os.makedirs(d, exist_ok=True)
    lists = defaultdict(list)
    for lon, lat in centres:
        for z in ZOOMS:
            for (z_, x, y) in viewport(lon, lat, z):
                p = f"/tiles/parcels/{z}/{x}/{y}.mvt"
                lists["parcels-z10-16"].append(p)
                if z <= 13:
                    lists["parcels-z10-13"].append(p)
                    lists["multi-z10-13"].append(f"/tiles/{multi}/{z}/{x}/{y}.mvt")
                else:
                    lists["parcels-z14-16"].append(p)
                    if z >= 15:
                        lists["parcels-z15-16"].append(p)
    for name, paths in lists.items():
        write(os.path.join(d, name + ".txt"), paths)
    # Every distinct URL, for the size pass and the cache fill.
    seen = dict.fromkeys(p for name in sorted(lists) for p in lists[name])
    write(os.path.join(d, "unique.txt"), list(seen))
    # bench_tiles for pgbench: the z14-16 list (with its repeats, so random
    # picks follow the same distribution), z14 first so z15-16 is an id range.
    rows = [tuple(map(int, p.split("/")[3:5] + [p.split("/")[5][:-4]]))
            for p in lists["parcels-z14-16"]]
    rows.sort(key=lambda t: t[0])
    write(os.path.join(d, "bench_tiles.tsv"), ["\t".join(map(str, r)) for r in rows])
    n14 = sum(1 for r in rows if r[0] == 14)
    print(f"{len(rows)} {n14}")


def zxy(path):
    parts = path.strip().split("/")
    return int(parts[-3]), int(parts[-2]), int(parts[-1].split(".")[0])


def cmd_sample(work, n):
    paths = [l.strip() for l in open(os.path.join(work, "lists", "parcels-z14-16.txt"))]
    by_z = defaultdict(list)
    for p in dict.fromkeys(paths):
        by_z[zxy(p)[0]].append(zxy(p))
    per = max(1, round(n / len(by_z)))
    for z in sorted(by_z):
        ts = by_z[z]
        step = max(1, len(ts) // per)
        for t in ts[::step][:per]:
            print(*t)


def cmd_cover(z0, z1, w, s, e, n):
    for z in range(z0, z1 + 1):
        x0, y0 = frac_tile(w, n, z)
        x1, y1 = frac_tile(e, s, z)
        for x in range(int(x0), int(x1) + 1):
            for y in range(int(y0), int(y1) + 1):
                print(z, x, y)


def cmd_densest(counts, z0, z1, k):
    cells = [tuple(map(int, l.split())) for l in open(counts) if l.strip()]
    for z in range(z0, z1 + 1):
        agg = defaultdict(int)
        sh = 16 - z
        for x, y, c in cells:
            agg[(x >> sh, y >> sh)] += c
        for (x, y), c in sorted(agg.items(), key=lambda kv: -kv[1])[:k]:
            print(z, x, y)


# ---------------------------------------------------------------- report

def kv(line):
    out = {}
    for tok in line.split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            out[k] = v
    return out


def pct(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    i = min(len(sorted_vals) - 1, max(0, math.ceil(p / 100 * len(sorted_vals)) - 1))
    return sorted_vals[i]


def fmt_int(v):
    return f"{v:,.0f}" if v == v else "–"


def fmt_ms(v):
    if v != v:
        return "–"
    return f"{v:.2f}" if v < 10 else f"{v:.1f}" if v < 100 else f"{v:.0f}"


def kb(v):
    return f"{v / 1000:,.1f} kB" if v == v else "–"


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def read_meta(work):
    meta = {}
    p = os.path.join(work, "meta.tsv")
    if os.path.exists(p):
        for l in open(p):
            if "\t" in l:
                k, v = l.rstrip("\n").split("\t", 1)
                meta[k] = v
    return meta


def read_runs(work):
    runs = {}
    p = os.path.join(work, "runs.tsv")
    if not os.path.exists(p):
        return runs
    for l in open(p):
        system, mode, lst, conns, load, rest = l.rstrip("\n").split("\t", 5)
        r = kv(rest)
        r["load"] = load
        if system == "geoplan":
            req = int(r["requests"])
            dur = int(r["duration_us"]) / 1e6
            r["rps"] = req / dur if dur else float("nan")
            r["p50"] = int(r["p50_us"]) / 1000
            r["p99"] = int(r["p99_us"]) / 1000
            r["wire"] = int(r["bytes"]) / req if req else float("nan")
            r["errors"] = int(r["status_errors"]) + int(r["socket_errors"])
            r["n"] = req
        else:
            lat = []
            for f in glob.glob(os.path.join(r["logdir"], "log*")):
                for row in open(f):
                    c = row.split()
                    if len(c) >= 3:
                        lat.append(int(c[2]) / 1000)
            lat.sort()
            r["rps"] = float(r["tps"])
            r["p50"] = pct(lat, 50)
            r["p99"] = pct(lat, 99)
            r["n"] = len(lat)
            r["errors"] = int(r.get("failed", 0))
        runs[(system, mode, lst, int(conns))] = r
    return runs


def read_sizes(path):
    """status, bytes by path from a curl write-out file."""
    out = {}
    if not os.path.exists(path):
        return out
    for l in open(path):
        c = l.rstrip("\n").split("\t")
        if len(c) < 4:
            continue
        url = c[3]
        p = url[url.index("/tiles/"):] if "/tiles/" in url else url
        out[p] = (int(c[0]), int(c[1]))
    return out


def cmd_report(work):
    meta = read_meta(work)
    runs = read_runs(work)
    raw = read_sizes(os.path.join(work, "sizes-raw.tsv"))
    gz = read_sizes(os.path.join(work, "sizes-gzip.tsv"))
    lists = {}
    for f in glob.glob(os.path.join(work, "lists", "*.txt")):
        name = os.path.basename(f)[:-4]
        if name != "unique":
            lists[name] = [l.strip() for l in open(f) if l.strip()]
    order = ["parcels-z14-16", "parcels-z15-16", "parcels-z10-13", "multi-z10-13", "parcels-z10-16"]
    order = [o for o in order if o in lists]
    out = []
    say = out.append

    say(f"# geoplan vector tiles — {meta.get('parcels', '?')} parcels")
    say("")
    say(f"Run {meta.get('started', '?')}; {meta.get('machine', '')}; "
        f"geoplan {meta.get('version', '?')} (release, GeoPackage store); "
        f"PostgreSQL {meta.get('pg_version', '?')} / PostGIS {meta.get('postgis_version', '?')} "
        f"(jit={meta.get('pg_jit', '?')}, max_parallel_workers_per_gather={meta.get('pg_parallel', '?')}).")
    say(f"Command: `{meta.get('command', 'benches/tiles_vs_postgis.sh')}`; wall time {meta.get('wall', '?')}.")
    say("")
    say(f"Tile lists: {meta.get('centres', '?')} viewport centres (random parcels, seed {meta.get('seed', '?')}), "
        f"a 1280×800 viewport of 512-px tiles = the 4×3 tile block around the centre, at each zoom 10–16; "
        f"requests keep their repeats (neighbouring viewports share low-zoom tiles). "
        f"Multi-layer list: `{meta.get('multi', '?')}`.")
    say("")
    say(table(["list", "URLs", "distinct tiles"],
              [(f"`{n}`", len(lists[n]), len(set(lists[n]))) for n in order]))
    say("")

    # ---- load
    modes = {"cold": "cold", "nomerge": "cold, no merge", "warm": "warm"}
    say(f"## geoplan under load (wrk -t2, {meta.get('dur', '?')} s per run, keep-alive, Accept-Encoding: gzip)")
    say("")
    say("cold = `[tiles] cache_bytes = 0` (every request renders); warm = default config "
        "(256 MiB tile cache), after one pass over every URL; cold, no merge = cache off and "
        "`parcels_detail_zoom = 14` (by default parcels are dissolved by land use below z15, which PostGIS does not do). "
        "wire = mean bytes per response incl. headers; load1 = 1-min load average when the run started "
        "(*n: n processes this script did not start — another geoplan, wrk, pgbench or a build — were running then).")
    say("")
    rows = []
    for lst in order:
        for mode in modes:
            for c in (16, 64):
                r = runs.get(("geoplan", mode, lst, c))
                if not r:
                    continue
                rows.append((f"`{lst}`", modes[mode], c, fmt_int(r["rps"]), fmt_ms(r["p50"]), fmt_ms(r["p99"]),
                             fmt_int(r["wire"]), r["errors"], r["load"]))
    say(table(["list", "geoplan", "conns", "requests/s", "p50 ms", "p99 ms", "wire B/resp", "errors", "load1"], rows))
    say("")

    # ---- baseline
    say(f"## Baseline: PostGIS ST_AsMVT on the same tiles (pgbench -j2 -T{meta.get('dur', '?')} -n, same concurrency)")
    say("")
    say("Per transaction: pick a random row of `bench_tiles` (the same z14–16 list, with its repeats; z15–16 = an id range), then "
        "`ST_AsMVT(q,'parcels',4096,'geom')` over `ST_AsMVTGeom(ST_Transform(geom,3857), ST_TileEnvelope(z,x,y), 4096, 64, true)` "
        "+ commune_code, sheet_number, parcel_number, legal_area, land_use_code, filtered by "
        "`geom && ST_Transform(ST_TileEnvelope(z,x,y, margin => 64.0/4096), 5899)`. "
        "SQL only (length() of the tile is returned: no HTTP, no gzip, no transfer), which favours the baseline. "
        "Percentiles from the per-transaction log (`pgbench -l`). load1 as above, at the start of the pgbench run.")
    say("")
    say("Ratios are geoplan / PostGIS: req/s above 1 and p99 below 1 mean geoplan is faster. "
        "Like for like: `parcels-z15-16` (all rows) and `parcels-z14-16` with 'cold, no merge'; "
        "default geoplan does less work at z14 (merged parcels).")
    say("")
    rows = []
    for lst in ("parcels-z14-16", "parcels-z15-16"):
        for c in (16, 64):
            b = runs.get(("postgis", "baseline", lst, c))
            if not b:
                continue
            for mode in modes:
                g = runs.get(("geoplan", mode, lst, c))
                if not g:
                    continue
                rows.append((f"`{lst}`", c, modes[mode], fmt_int(g["rps"]), f"{b['rps']:,.1f}",
                             f"**{g['rps'] / b['rps']:,.1f}×**", fmt_ms(g["p99"]), fmt_ms(b["p99"]),
                             f"**{g['p99'] / b['p99']:.3f}×**", fmt_ms(b["p50"]), b["n"], b["load"]))
    say(table(["list", "conns", "geoplan", "geoplan req/s", "PostGIS tiles/s", "req/s ratio",
               "geoplan p99 ms", "PostGIS p99 ms", "p99 ratio", "PostGIS p50 ms", "PostGIS tiles", "load1"], rows))
    say("")

    # ---- sizes
    say("## Response sizes of the benchmarked tiles (each distinct URL fetched once)")
    say("")
    say("raw = uncompressed MVT (curl without gzip), gzip = as served with `Accept-Encoding: gzip`; means over non-empty tiles.")
    say("")
    rows = []
    for prefix, lst in (("parcels", "parcels-z10-16"), ("multi", "multi-z10-13")):
        if lst not in lists:
            continue
        by_z = defaultdict(list)
        for p in dict.fromkeys(lists[lst]):
            by_z[zxy(p)[0]].append(p)
        for z in sorted(by_z):
            st = [raw.get(p, (0, 0)) for p in by_z[z]]
            ok = [b for s, b in st if s == 200]
            empty = sum(1 for s, _ in st if s == 204)
            other = len(st) - len(ok) - empty
            g = [gz[p][1] for p in by_z[z] if gz.get(p, (0, 0))[0] == 200]
            big = sum(1 for b in ok if b > BIG)
            rows.append((prefix, z, len(st), empty, other,
                         kb(sum(ok) / len(ok)) if ok else "–", kb(max(ok)) if ok else "–",
                         kb(sum(g) / len(g)) if g else "–", kb(max(g)) if g else "–", big))
    nm = read_sizes(os.path.join(work, "sizes-raw-nomerge.tsv"))
    if nm:
        st = list(nm.values())
        ok = [b for s_, b in st if s_ == 200]
        rows.append(("parcels, no merge", 14, len(st), sum(1 for s_, _ in st if s_ == 204),
                     sum(1 for s_, _ in st if s_ not in (200, 204)),
                     kb(sum(ok) / len(ok)) if ok else "–", kb(max(ok)) if ok else "–", "–", "–",
                     sum(1 for b in ok if b > BIG)))
    say(table(["layers", "zoom", "tiles", "204 empty", "errors", "mean raw", "max raw", "mean gzip", "max gzip",
               f"> {BIG // 1000} kB raw"], rows))
    say("")
    ws_raw = sum(b for s, b in raw.values() if s == 200)
    ws_gz = sum(b for s, b in gz.values() if s == 200)
    say(f"Working set of all distinct benchmarked tiles: {ws_raw / 2**20:,.0f} MiB raw + {ws_gz / 2**20:,.0f} MiB gzip "
        f"= {(ws_raw + ws_gz) / 2**20:,.0f} MiB against the 256 MiB default cache (which holds both forms). "
        f"Cache fill pass (one client, sequential, rendering every distinct tile): {meta.get('fill', '?')}.")
    say("")

    # ---- memory
    say("## Server memory (VmHWM = peak RSS)")
    say("")
    rows = []
    for mode in ("cold", "nomerge", "warm"):
        if f"{mode}_ready_s" in meta:
            rows.append(({"nomerge": "cold, no merge"}.get(mode, mode), meta.get(f"{mode}_ready_s", "–"), meta.get(f"{mode}_rss_ready", "–"),
                         meta.get(f"{mode}_hwm_runs", "–"), meta.get(f"{mode}_hwm_end", "–")))
    say(table(["server", "ready after s", "RSS when ready MB", "peak RSS after load runs MB", "peak RSS at exit MB"], rows))
    say("")
    say("'at exit' includes the size pass, the count check and the largest-tile sweep below (cold servers).")
    say("")

    # ---- counts
    cp = os.path.join(work, "counts.tsv")
    if os.path.exists(cp):
        say("## Correctness: features per tile, geoplan vs PostGIS")
        say("")
        say("geoplan's tile decoded with GDAL's MVT driver (`ogrinfo -ro -so -al -oo CLIP=NO z/x/y.pbf`); PostGIS = rows of "
            "`ST_AsMVTGeom(..., 4096, 64, true)` that are not null (what its tile holds); "
            "'intersects' = parcels intersecting the tile plus its 64-unit buffer. "
            "Relative difference = |geoplan − PostGIS| / PostGIS, per tile, then averaged.")
        say("")
        by = defaultdict(list)
        for l in open(cp):
            c = l.split()
            if len(c) < 7:
                continue
            z, x, y, g, b, i, m = c
            by[int(z)].append((int(g or 0), int(b), int(i), int(m or 0), f"{z}/{x}/{y}"))

        def rel(items, k):
            r = [abs(t[k] - t[1]) / t[1] for t in items if t[1] > 0]
            return sum(r) / len(r) * 100 if r else 0.0

        def summary(label, items):
            worst = max(items, key=lambda t: abs(t[0] - t[1]) / max(t[1], 1))
            return (label, len(items), f"{sum(t[0] for t in items):,}", f"{sum(t[3] for t in items):,}",
                    f"{sum(t[1] for t in items):,}", f"{sum(t[2] for t in items):,}",
                    sum(1 for t in items if t[0] == t[1]), sum(1 for t in items if t[3] == t[1]),
                    f"{rel(items, 0):.2f} %", f"{rel(items, 3):.2f} %",
                    f"{worst[4]}: {worst[0]} vs {worst[1]}")

        rows = [summary(f"z{z}", by[z]) for z in sorted(by)]
        allz = [t for z in sorted(by) for t in by[z]]
        rows.append(summary("**z14–16**", allz))
        hi = [t for z in sorted(by) if z >= 15 for t in by[z]]
        if hi:
            rows.append(summary("**z15–16**", hi))
        say(table(["zoom", "tiles", "geoplan", "geoplan no merge", "PostGIS", "intersects", "same count",
                   "same count, no merge", "mean rel. diff", "mean rel. diff, no merge",
                   "largest difference (default geoplan vs PostGIS)"], rows))
        say("")
        z14 = by.get(14, [])
        if z14 and sum(t[0] for t in z14) < 0.5 * sum(t[1] for t in z14):
            say("At z14 default geoplan dissolves parcels by land_use_code (`tiles.parcels_detail_zoom = 15`), "
                "so far fewer, merged features are expected there; the 'no merge' columns are like for like.")
            say("")

    # ---- largest
    lp = os.path.join(work, "largest-raw.tsv")
    if os.path.exists(lp):
        say("## Largest tile per zoom over the whole dataset (uncompressed MVT)")
        say("")
        say("z0–13: every tile over the layer set's extent (`/layers/parcels` bbox for parcels, the TileJSON bounds "
            f"for the multi-layer set); z13–16: the {meta.get('densest', '20')} densest tiles by parcel count "
            "(parcel centroids in EPSG:3857, SQL).")
        say("")
        lraw = read_sizes(lp)
        lgz = read_sizes(os.path.join(work, "largest-gzip.tsv"))
        rows = []
        for prefix in ("parcels", "multi"):
            by_z = defaultdict(list)
            for p, (s, b) in lraw.items():
                is_parcels = p.startswith("/tiles/parcels/")
                if (prefix == "parcels") == is_parcels:
                    by_z[zxy(p)[0]].append((p, s, b))
            for z in sorted(by_z):
                items = by_z[z]
                ok = [t for t in items if t[1] == 200]
                errs = [t for t in items if t[1] not in (200, 204)]
                if ok:
                    p, s, b = max(ok, key=lambda t: t[2])
                    g = lgz.get(p, (0, 0))[1]
                    a, x, y = zxy(p)
                    flag = " ⚠" if b > BIG else ""
                    rows.append((prefix, z, len(items), len(ok), len(errs), f"{kb(b)}{flag}", kb(g), f"{a}/{x}/{y}"))
                else:
                    rows.append((prefix, z, len(items), 0, len(errs), "(all 204)", "–", "–"))
        nm = read_sizes(os.path.join(work, "largest-raw-nomerge.tsv"))
        for z in (14, 15, 16):
            items = [(p, s_, b) for p, (s_, b) in nm.items() if zxy(p)[0] == z]
            ok = [t for t in items if t[1] == 200]
            if ok:
                p, s_, b = max(ok, key=lambda t: t[2])
                a, x, y = zxy(p)
                same = "" if z == 14 else (" (= default)" if b == lraw.get(p, (0, -1))[1] else " (differs from default!)")
                rows.append(("parcels, no merge", z, len(items), len(ok), sum(1 for t in items if t[1] not in (200, 204)),
                             f"{kb(b)}{' ⚠' if b > BIG else ''}{same}", "–", f"{a}/{x}/{y}"))
        say(table(["layers", "zoom", "tiles fetched", "non-empty", "errors", "largest raw", "its gzip", "tile"], rows))
        say("")
        say(f"⚠ = over {BIG:,} bytes raw. 'multi' = `{meta.get('multi', '?')}`.")
        say("")

    # ---- errors
    ep = os.path.join(work, "errors.txt")
    errs = open(ep).read().strip() if os.path.exists(ep) else ""
    say("## Errors")
    say("")
    say("```\n" + errs + "\n```" if errs else "No response other than 200 and 204 in any pass; no wrk or pgbench errors."
        if not any(r.get("errors") for r in runs.values()) else "See the errors column above.")
    print("\n".join(out))


def main():
    a = sys.argv[1:]
    if not a:
        sys.exit(__doc__)
    c = a[0]
    if c == "lists":
        cmd_lists(a[1], a[2], a[3])
    elif c == "sample":
        cmd_sample(a[1], int(a[2]))
    elif c == "cover":
        cmd_cover(int(a[1]), int(a[2]), *map(float, a[3:7]))
    elif c == "densest":
        cmd_densest(a[1], int(a[2]), int(a[3]), int(a[4]))
    elif c == "report":
        cmd_report(a[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
