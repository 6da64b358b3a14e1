// Drawing on the map (terra-draw, from npm) shared by measuring and the
// compliance check: one drawing instance, one owner at a time, vertices
// snapping to the parcel corners drawn on screen; and the legal plane
// VN-2000 / TM-3 107°45′ (EPSG:5899) for lengths and areas.
"use strict";
import { mode } from "./card.js";

let toTm3 = null, libs = null;

function script(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`${src} did not load`));
    document.head.appendChild(s);
  });
}

/** Loads proj4 and terra-draw once (after the first map paint, so they
 * never delay it); resolves when measuring and drawing can work. */
export function ready() {
  libs = libs || (async () => {
    await script("/vendor/proj4/proj4.js");
    // EPSG:5899 as PROJ defines it, with the VN-2000 datum shift in the
    // position-vector convention (crs::VN2000_TOWGS84 on the server).
    proj4.defs("EPSG:5899", "+proj=tmerc +lat_0=0 +lon_0=107.75 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 " +
      "+towgs84=-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278 +units=m +no_defs");
    toTm3 = proj4("EPSG:4326", "EPSG:5899");
    await script("/vendor/terra-draw/terra-draw.umd.js");
    await script("/vendor/terra-draw-maplibre-gl-adapter/terra-draw-maplibre-gl-adapter.umd.js");
  })();
  return libs;
}

/** [lon, lat] → [easting, northing] in EPSG:5899. */
export const tm3 = (c) => toTm3.forward([c[0], c[1]]);
/** [easting, northing] in EPSG:5899 → [lon, lat]. */
export const lonlat = (c) => toTm3.inverse([c[0], c[1]]);

/** Length of a lon/lat line in the legal plane, m. */
export function length(coords) {
  let s = 0;
  for (let i = 1; i < coords.length; i++) {
    const a = tm3(coords[i - 1]), b = tm3(coords[i]);
    s += Math.hypot(b[0] - a[0], b[1] - a[1]);
  }
  return s;
}

/** Area of a lon/lat polygon (rings, holes subtracted) in the legal plane, m². */
export function area(rings) {
  let total = 0;
  rings.forEach((ring, i) => {
    const p = ring.map(tm3);
    let s = 0;
    for (let k = 0; k + 1 < p.length; k++) s += p[k][0] * p[k + 1][1] - p[k + 1][0] * p[k][1];
    total += (i === 0 ? 1 : -1) * Math.abs(s / 2);
  });
  return total;
}

let map, draw = null, owner = null;
const listeners = new Set();

/** The nearest parcel corner within 10 px of the pointer, if any. */
function snapToParcels(event) {
  if (!map.getLayer("parcels-fill")) return undefined;
  const r = 10, x = event.containerX, y = event.containerY;
  const feats = map.queryRenderedFeatures([[x - r, y - r], [x + r, y + r]], { layers: ["parcels-fill"] });
  let best, bestD = r * r;
  for (const f of feats) {
    const rings = f.geometry.type === "Polygon" ? f.geometry.coordinates : f.geometry.type === "MultiPolygon" ? f.geometry.coordinates.flat() : [];
    for (const ring of rings) for (const c of ring) {
      const p = map.project(c);
      const d = (p.x - x) ** 2 + (p.y - y) ** 2;
      if (d < bestD) { bestD = d; best = c; }
    }
  }
  return best;
}

function instance() {
  if (draw) return draw;
  const snapping = { toCustom: snapToParcels };
  draw = new terraDraw.TerraDraw({
    adapter: new terraDrawMaplibreGlAdapter.TerraDrawMapLibreGLAdapter({ map }),
    modes: [
      new terraDraw.TerraDrawLineStringMode({ snapping }),
      new terraDraw.TerraDrawPolygonMode({ snapping, validation: (f, ctx) => terraDraw.ValidateNotSelfIntersecting(f, ctx) }),
      new terraDraw.TerraDrawRenderMode({ modeName: "static-view", styles: {} }),
    ],
  });
  draw.start();
  draw.on("finish", (id) => {
    const f = draw.getSnapshotFeature(id);
    for (const l of listeners) l({ owner, feature: f, done: true });
  });
  draw.on("change", () => {
    const f = draw.getSnapshot().filter((x) => x.geometry.type !== "Point").pop();
    if (f) for (const l of listeners) l({ owner, feature: f, done: false });
  });
  return draw;
}

/** Starts drawing a "linestring" or "polygon" for `who`; clears what was drawn. */
export async function start(who, kind) {
  await ready();
  const d = instance();
  d.clear();
  owner = who;
  mode.browsing = false;
  d.setMode(kind);
}

/** Stops drawing; keeps the drawing on screen unless `clear`. */
export function stop({ clear = false } = {}) {
  if (!draw) return;
  if (clear) draw.clear();
  draw.setMode("static-view");
  owner = null;
  setTimeout(() => { mode.browsing = true; }, 0);
}

/** Puts a polygon on the drawing layer as `who`'s (a file read, a parcel). */
export async function show(who, geometry) {
  await ready();
  const d = instance();
  d.clear();
  owner = null;
  d.setMode("static-view");
  d.addFeatures([{ type: "Feature", geometry, properties: { mode: "polygon" } }]);
  void who;
}

/** Who is drawing now (null: nobody). */
export const drawing = () => owner;

/** Calls `f({owner, feature, done})` as drawings change and finish. */
export function listen(f) { listeners.add(f); }

export function init(m) {
  map = m;
  map.on("load", () => ready().then(instance));
}
