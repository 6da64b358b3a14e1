// The geoplan map page: the planning style, a layer switcher, a land-use
// legend built from what is on screen, and a click panel that shows a
// feature's full attributes from the feature API.
"use strict";

// Map layers grouped as the switcher shows them (style layer ids).
const GROUPS = [
  { title: "Thửa đất địa chính", layers: ["parcels-fill", "parcels-line", "parcels-label"] },
  { title: "Lô đất quy hoạch", layers: ["zoning-lots"] },
  { title: "Dự án đầu tư", layers: ["investment-projects"] },
  { title: "Khu công nghiệp, khu kinh tế", layers: ["industrial-zones"] },
  { title: "Giao thông", layers: ["roads", "roads-label"] },
  { title: "Sông, kênh, hồ", layers: ["water"] },
  { title: "Địa giới hành chính", layers: ["admin-district-line", "admin-province-line", "admin-label"] },
  { title: "Điểm quan tâm", layers: ["pois", "pois-label"] },
];
// Source layers a click can identify, with their Vietnamese names.
const CLICKABLE = {
  "parcels-fill": "Thửa đất",
  "zoning-lots": "Lô đất quy hoạch",
  "investment-projects": "Dự án đầu tư",
  "industrial-zones": "Khu công nghiệp / khu kinh tế",
  "pois": "Điểm quan tâm",
};

const params = new URLSearchParams(location.search);
const map = new maplibregl.Map({
  container: "map",
  style: "/styles/planning.json",
  center: [Number(params.get("lon") || 108.22), Number(params.get("lat") || 16.03)],
  zoom: Number(params.get("z") || 11),
  hash: true,
  attributionControl: { compact: true },
});
window.geoplanMap = map; // for tests and the console
map.addControl(new maplibregl.NavigationControl(), "top-left");
map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");

function switcher() {
  const ul = document.getElementById("layers");
  for (const g of GROUPS) {
    const li = document.createElement("li");
    const id = "layer-" + g.layers[0];
    li.innerHTML = `<label><input type="checkbox" id="${id}" checked> ${g.title}</label>`;
    li.querySelector("input").addEventListener("change", (e) => {
      for (const l of g.layers) {
        if (map.getLayer(l)) map.setLayoutProperty(l, "visibility", e.target.checked ? "visible" : "none");
      }
    });
    ul.appendChild(li);
  }
}

let legendInfo = null;
function legend() {
  if (!legendInfo) return;
  const codes = new Set();
  for (const f of map.querySourceFeatures("geoplan", { sourceLayer: "parcels" })) {
    if (f.properties.land_use_code) codes.add(f.properties.land_use_code);
  }
  const ul = document.getElementById("legend");
  ul.innerHTML = "";
  const title = document.getElementById("legend-title");
  if (codes.size === 0) {
    title.textContent = "Chú giải";
    ul.innerHTML = '<li class="muted">Phóng to tới mức 14 để xem thửa đất theo mã loại đất.</li>';
    return;
  }
  title.textContent = legendInfo.title;
  for (const code of [...codes].sort()) {
    const e = legendInfo.landuse[code] || { name: "(mã không có trong danh mục)", colour: "#e0e0e0" };
    const li = document.createElement("li");
    li.innerHTML = `<span class="swatch" style="background:${e.colour}"></span><b>${code}</b> ${e.name}`;
    ul.appendChild(li);
  }
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

async function showFeature(f, styleLayer, lngLat) {
  const info = document.getElementById("info");
  const layer = f.sourceLayer;
  let props = f.properties;
  let id = f.id;
  // Tiles carry what the map draws; the feature API has every attribute.
  // Below their detail zoom parcels are merged by land use and have no id:
  // then the API finds the parcel under the click.
  try {
    const url = id !== undefined
      ? `/layers/${encodeURIComponent(layer)}/features/${id}`
      : `/layers/${encodeURIComponent(layer)}/features?point=${lngLat.lng},${lngLat.lat}&limit=1`;
    const r = await fetch(url);
    if (r.ok) {
      const j = await r.json();
      const feat = j.type === "FeatureCollection" ? j.features[0] : j;
      if (feat) { props = feat.properties; id = feat.id; }
    }
  } catch (_) { /* keep the tile's attributes */ }
  const rows = Object.entries(props)
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v ?? "")}</td></tr>`)
    .join("");
  info.classList.remove("muted");
  info.innerHTML = `<div class="layer" data-layer="${escapeHtml(layer)}" data-fid="${escapeHtml(id ?? "")}">${CLICKABLE[styleLayer]} #${escapeHtml(id ?? "")}</div><table>${rows}</table>`;
}

map.on("load", () => {
  legendInfo = (map.getStyle().metadata || {})["geoplan:legend"] || null;
  switcher();
  legend();
  map.on("moveend", legend);
  map.on("sourcedata", (e) => { if (e.sourceId === "geoplan" && e.isSourceLoaded) legend(); });
  const clickable = Object.keys(CLICKABLE);
  map.on("click", (e) => {
    const hits = map.queryRenderedFeatures(e.point, { layers: clickable.filter((l) => map.getLayer(l)) });
    if (hits.length) showFeature(hits[0], hits[0].layer.id, e.lngLat);
  });
  for (const l of clickable) {
    map.on("mouseenter", l, () => { map.getCanvas().style.cursor = "pointer"; });
    map.on("mouseleave", l, () => { map.getCanvas().style.cursor = ""; });
  }
});
