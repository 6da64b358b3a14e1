// The layer switcher and the land-use legend built from what is on screen.
"use strict";
import { emit, esc, on, tr } from "./core.js";

// Map layers grouped as the switcher shows them (style layer ids).
const GROUPS = [
  { vi: "Thửa đất, hiện trạng sử dụng đất", en: "Parcels, current land use", layers: ["parcels-fill", "parcels-line", "parcels-label"] },
  { vi: "Lô đất quy hoạch", en: "Zoning lots", layers: ["zoning-lots"] },
  { vi: "Dự án đầu tư", en: "Investment projects", layers: ["investment-projects"] },
  { vi: "Khu công nghiệp, khu kinh tế", en: "Industrial and economic zones", layers: ["industrial-zones"] },
  { vi: "Giao thông", en: "Roads", layers: ["roads", "roads-label"] },
  { vi: "Sông, kênh, hồ", en: "Water", layers: ["water"] },
  { vi: "Địa giới hành chính", en: "Administrative boundaries", layers: ["admin-district-line", "admin-province-line", "admin-label"] },
  { vi: "Điểm quan tâm", en: "Places", layers: ["pois", "pois-label"] },
];

let map, legendInfo = null;

function switcher() {
  const ul = document.getElementById("layers");
  const checked = Object.fromEntries([...ul.querySelectorAll("input")].map((i) => [i.id, i.checked]));
  ul.innerHTML = "";
  for (const g of GROUPS) {
    const li = document.createElement("li");
    const id = "layer-" + g.layers[0];
    li.innerHTML = `<label><input type="checkbox" id="${id}"> ${esc(tr(g.vi, g.en))}</label>`;
    const box = li.querySelector("input");
    box.checked = checked[id] ?? true;
    box.addEventListener("change", (e) => {
      for (const l of g.layers) {
        if (map.getLayer(l)) map.setLayoutProperty(l, "visibility", e.target.checked ? "visible" : "none");
      }
    });
    ul.appendChild(li);
  }
}

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
    title.textContent = tr("Chú giải", "Legend");
    ul.innerHTML = `<li class="muted">${esc(tr("Phóng to tới mức 11 để xem hiện trạng sử dụng đất theo mã loại đất.", "Zoom in to level 11 to see the current land use by code."))}</li>`;
    return;
  }
  title.textContent = legendInfo.title;
  for (const code of [...codes].sort()) {
    const e = legendInfo.landuse[code] || { name: tr("(mã không có trong danh mục)", "(code not in the list)"), colour: "#e0e0e0" };
    const li = document.createElement("li");
    li.innerHTML = `<span class="swatch" style="background:${esc(e.colour)}"></span><b>${esc(code)}</b> ${esc(e.name)}`;
    ul.appendChild(li);
  }
}

/** The land-use legend of the style: code → {name, colour}. */
export function landuse() {
  return legendInfo ? legendInfo.landuse : {};
}

export function init(m) {
  map = m;
  switcher();
  map.on("load", () => {
    legendInfo = (map.getStyle().metadata || {})["geoplan:legend"] || null;
    legend();
    emit("legend", legendInfo);
    map.on("moveend", legend);
    map.on("sourcedata", (e) => { if (e.sourceId === "geoplan" && e.isSourceLoaded) legend(); });
  });
  on("lang", () => { switcher(); legend(); });
}
