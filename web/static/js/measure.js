// Measuring on the map: distances and areas in the legal plane
// (VN-2000 / TM-3 107°45′, EPSG:5899), consistent with the parcels'
// legal areas, with vertices snapping to parcel corners.
"use strict";
import { num, on, tr } from "./core.js";
import * as draw from "./draw.js";

let out, kind = null, last = null;

function show(f) {
  last = f;
  if (!f) { out.textContent = ""; return; }
  const g = f.geometry;
  if (g.type === "LineString") {
    out.textContent = `${tr("Chiều dài", "Length")}: ${num(draw.length(g.coordinates), 2)} m`;
  } else if (g.type === "Polygon") {
    const a = draw.area(g.coordinates);
    const perim = draw.length(g.coordinates[0]);
    out.textContent = `${tr("Diện tích", "Area")}: ${num(a, 1)} m²${a >= 10000 ? ` (${num(a / 10000, 3)} ha)` : ""} · ${tr("chu vi", "perimeter")} ${num(perim, 2)} m`;
  }
  out.dataset.m = g.type === "LineString" ? draw.length(g.coordinates) : draw.area(g.coordinates);
}

function press(which) {
  const line = document.getElementById("measure-line"), poly = document.getElementById("measure-area");
  line.setAttribute("aria-pressed", String(which === "linestring"));
  poly.setAttribute("aria-pressed", String(which === "polygon"));
}

function toggle(which) {
  if (kind === which) { kind = null; press(null); draw.stop(); return; }
  kind = which;
  press(which);
  show(null);
  draw.start("measure", which);
}

export function init(map) {
  draw.init(map);
  out = document.getElementById("measure-out");
  document.getElementById("measure-line").addEventListener("click", () => toggle("linestring"));
  document.getElementById("measure-area").addEventListener("click", () => toggle("polygon"));
  document.getElementById("measure-clear").addEventListener("click", () => {
    if (draw.drawing() === "measure" || kind) draw.stop({ clear: true });
    kind = null; press(null); show(null);
  });
  press(null);
  draw.listen(({ owner, feature, done }) => {
    if (owner !== "measure") return;
    show(feature);
    if (done) { kind = null; press(null); draw.stop(); }
  });
  on("lang", () => show(last));
}
