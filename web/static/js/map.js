// The map: MapLibre with the server's planning style, the map position in
// the address (#zoom/lat/lon), and two overlays every part draws on — the
// highlighted subject (red) and a set of results (blue, numbered).
"use strict";

let map, ready = false; // ready: the first load is done

/** Creates the map in #map. */
export function create() {
  map = new maplibregl.Map({
    container: "map",
    style: "/styles/planning.json",
    center: [108.22, 16.03],
    zoom: 11,
    hash: true,
    attributionControl: { compact: true },
    // The style is generated (styles/build.py) and tests/styles.rs keeps it
    // to a documented subset of the spec; validating it again in each
    // browser costs the first paint main-thread time on a slow machine.
    validateStyle: false,
  });
  window.geoplanMap = map; // for tests and the console
  map.addControl(new maplibregl.NavigationControl(), "top-left");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
  map.on("load", () => {
    ready = true;
    window.geoplanLoadedAt = performance.now(); // first complete paint, ms since navigation

    const empty = { type: "FeatureCollection", features: [] };
    map.addSource("results", { type: "geojson", data: empty });
    map.addSource("highlight", { type: "geojson", data: empty });
    map.addLayer({ id: "results-fill", type: "fill", source: "results", paint: { "fill-color": "#1565c0", "fill-opacity": ["case", ["boolean", ["get", "active"], false], 0.45, 0.22] } });
    map.addLayer({ id: "results-line", type: "line", source: "results", paint: { "line-color": "#0d47a1", "line-width": 2 } });
    map.addLayer({ id: "results-label", type: "symbol", source: "results", layout: { "text-field": ["to-string", ["get", "rank"]], "text-font": ["DejaVu Sans Bold"], "text-size": 13 }, paint: { "text-color": "#0d47a1", "text-halo-color": "#fff", "text-halo-width": 2 } });
    map.addLayer({ id: "highlight-fill", type: "fill", source: "highlight", paint: { "fill-color": "#e53935", "fill-opacity": 0.18 } });
    map.addLayer({ id: "highlight-line", type: "line", source: "highlight", paint: { "line-color": "#c62828", "line-width": 3 } });
    map.addLayer({ id: "highlight-point", type: "circle", source: "highlight", filter: ["==", ["geometry-type"], "Point"], paint: { "circle-radius": 7, "circle-color": "#e53935", "circle-stroke-color": "#fff", "circle-stroke-width": 2 } });
  });
  return map;
}

function whenLoaded(f) {
  if (map.isStyleLoaded() && map.getSource("highlight")) f(); else map.once("load", () => setTimeout(f, 0));
}

// What the overlays show, for tests and the console.
const shown = { highlight: null, results: null };
window.geoplanOverlays = shown;

/** Highlights a GeoJSON geometry, feature or collection (null clears). */
export function highlight(geojson) {
  shown.highlight = geojson || null;
  whenLoaded(() => map.getSource("highlight").setData(geojson || { type: "FeatureCollection", features: [] }));
}

/** Shows a FeatureCollection of results (each with properties.rank). */
export function results(fc) {
  shown.results = fc || null;
  whenLoaded(() => map.getSource("results").setData(fc || { type: "FeatureCollection", features: [] }));
}

/** Zooms to a CRS84 bbox [minx, miny, maxx, maxy]. */
export function zoomTo(bbox, maxZoom = 18) {
  if (!bbox) return;
  // Before the first load the container may not have its size yet.
  if (!ready) { map.once("load", () => zoomTo(bbox, maxZoom)); return; }
  const [a, b, c, d] = bbox;
  if (a === c && b === d) map.easeTo({ center: [a, b], zoom: Math.max(map.getZoom(), 16), duration: 400 });
  else map.fitBounds([[a, b], [c, d]], { padding: 60, maxZoom, duration: 400 });
}

/** The CRS84 bbox of a GeoJSON object. */
export function bboxOf(g) {
  let b = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => {
    if (typeof c[0] === "number") { b = [Math.min(b[0], c[0]), Math.min(b[1], c[1]), Math.max(b[2], c[0]), Math.max(b[3], c[1])]; return; }
    for (const x of c) walk(x);
  };
  const visit = (o) => {
    if (!o) return;
    if (o.type === "FeatureCollection") o.features.forEach(visit);
    else if (o.type === "Feature") visit(o.geometry);
    else if (o.type === "GeometryCollection") o.geometries.forEach(visit);
    else if (o.coordinates) walk(o.coordinates);
  };
  visit(g);
  return Number.isFinite(b[0]) ? b : null;
}
