// Investor site search: the criteria of GET /sites as a form; the results
// listed with score, area, distances and units, drawn numbered on the map,
// paged, downloadable as CSV or GeoJSON; the address reproduces the search.
"use strict";
import { api, area, esc, num, on, state, tr, url } from "./core.js";
import { results, zoomTo, bboxOf, highlight } from "./map.js";

const FUNCTIONS = [
  ["", "— bất kỳ —", "— any —"], ["industry", "Công nghiệp", "Industry"], ["warehouse", "Kho bãi, logistics", "Warehouses, logistics"],
  ["commercial", "Thương mại dịch vụ", "Commerce and services"], ["mixed", "Hỗn hợp", "Mixed use"], ["residential", "Ở", "Housing"],
  ["public", "Công cộng", "Public"], ["education", "Giáo dục", "Education"], ["health", "Y tế", "Health"],
  ["green", "Cây xanh", "Green space"], ["utilities", "Hạ tầng kỹ thuật", "Utilities"],
];
const PLACES = [
  ["airport", "Sân bay", "Airport"], ["seaport", "Cảng biển", "Seaport"], ["national_road", "Quốc lộ", "National road"],
  ["expressway", "Đường cao tốc", "Expressway"], ["railway_station", "Ga đường sắt", "Railway station"],
  ["centre", "Trung tâm hành chính", "Administrative centre"], ["iz", "Khu công nghiệp", "Industrial zone"],
  ["economic_zone", "Khu kinh tế", "Economic zone"], ["hi_tech_park", "Khu công nghệ cao", "Hi-tech park"],
];
const INSIDE = [["", "— bất kỳ đâu —", "— anywhere —"], ["industrial", "Trong khu công nghiệp", "Inside an industrial zone"],
  ["economic", "Trong khu kinh tế", "Inside an economic zone"], ["any-zone", "Trong KCN hoặc KKT", "Inside any zone"]];
const PAGE = 20;

let map, view, lastQuery = null, lastFc = null;

const opt = (list, sel) => list.map(([v, vi, en]) => `<option value="${esc(v)}"${v === sel ? " selected" : ""}>${esc(tr(vi, en))}</option>`).join("");

let places = []; // named places (pois), for a distance to one of them

function nearRow(what = "airport", km = "") {
  const d = document.createElement("div");
  d.className = "near-row";
  const named = places.map((n) => `<option value="${esc(n)}"${n === what ? " selected" : ""}>${esc(n)}</option>`).join("");
  d.innerHTML = `<select aria-label="${esc(tr("Loại địa điểm", "Kind of place"))}" name="near_what"><optgroup label="${esc(tr("Loại", "Kind"))}">${opt(PLACES, what)}</optgroup>${named ? `<optgroup label="${esc(tr("Địa điểm cụ thể", "One place"))}">${named}</optgroup>` : ""}</select>
    <input name="near_km" type="number" min="0.1" max="300" step="0.1" value="${esc(km)}" aria-label="km" placeholder="km">
    <span class="small muted">km</span>
    <button type="button" class="near-del" aria-label="${esc(tr("Bỏ điều kiện", "Remove condition"))}">×</button>`;
  d.querySelector(".near-del").addEventListener("click", () => d.remove());
  return d;
}

function form(p) {
  view.innerHTML = `<h2>${esc(tr("Tìm mặt bằng cho nhà đầu tư", "Find sites for an investor"))}</h2>
  <form id="sites-form" class="grid">
    <label>${esc(tr("Đối tượng", "Candidates"))}<select name="candidates">${opt([["lots", "Lô đất quy hoạch", "Zoning lots"], ["parcels", "Thửa đất hiện trạng", "Parcels (current use)"]], p.get("candidates") || "lots")}</select></label>
    <label>${esc(tr("Chức năng", "Function"))}<select name="function">${opt(FUNCTIONS, p.get("function") || "")}</select></label>
    <label>${esc(tr("Diện tích từ (ha)", "Area from (ha)"))}<input name="min_ha" type="number" min="0" step="0.1" value="${esc(haOf(p.get("min_area")))}"></label>
    <label>${esc(tr("đến (ha)", "to (ha)"))}<input name="max_ha" type="number" min="0" step="0.1" value="${esc(haOf(p.get("max_area")))}"></label>
    <label>${esc(tr("Hệ số SDĐ tối thiểu", "Least FAR"))}<input name="min_far" type="number" min="0" step="0.1" value="${esc(p.get("min_far") || "")}"></label>
    <label>${esc(tr("Số tầng tối thiểu", "Least floors"))}<input name="min_floors" type="number" min="1" step="1" value="${esc(p.get("min_floors") || "")}"></label>
    <label class="wide">${esc(tr("Vị trí", "Location"))}<select name="in">${opt(INSIDE, p.get("in") || "")}</select></label>
    <fieldset><legend>${esc(tr("Khoảng cách tối đa (đường chim bay, VN-2000)", "Greatest distance (straight line, VN-2000)"))}</legend>
      <div id="sites-near"></div>
      <button type="button" id="sites-add-near">+ ${esc(tr("Thêm điều kiện khoảng cách", "Add a distance condition"))}</button></fieldset>
    <fieldset><legend>${esc(tr("Loại trừ", "Exclude"))}</legend>
      <label><input type="checkbox" name="ex_projects"${/projects/.test(p.get("exclude") || "projects") ? " checked" : ""}> ${esc(tr("Đã có dự án", "Already taken by a project"))}</label>
      <label><input type="checkbox" name="ex_water"${/water/.test(p.get("exclude") || "") ? " checked" : ""}> ${esc(tr("Sông, hồ (50 m)", "Water (50 m)"))}</label>
      <label><input type="checkbox" name="ex_defence"${/defence/.test(p.get("exclude") || "") ? " checked" : ""}> ${esc(tr("Đất quốc phòng, an ninh (200 m)", "Defence land (200 m)"))}</label></fieldset>
    <label>${esc(tr("Đơn vị hành chính", "Administrative unit"))}<input name="unit" value="${esc(p.get("unit") || "")}" placeholder="${esc(tr("vd. Núi Thành", "e.g. Núi Thành"))}"></label>
    <label>${esc(tr("Sắp xếp", "Sort"))}<select name="sort">${opt([["score", "Điểm phù hợp", "Score"], ["area", "Diện tích", "Area"]], p.get("sort") || "score")}</select></label>
    <div class="actions wide" style="grid-column:1/-1"><button class="primary" type="submit" id="sites-run">${esc(tr("Tìm", "Search"))}</button></div>
  </form>
  <div id="sites-out"></div>`;
  const near = view.querySelector("#sites-near");
  for (const n of p.getAll("near")) {
    const m = /^(.*):([\d.]+)(k?m)$/.exec(n);
    if (m) near.appendChild(nearRow(m[1], m[3] === "km" ? m[2] : String(Number(m[2]) / 1000)));
  }
  view.querySelector("#sites-add-near").addEventListener("click", () => near.appendChild(nearRow()));
  view.querySelector("#sites-form").addEventListener("submit", (e) => { e.preventDefault(); run(0); });
}

const haOf = (v) => { if (!v) return ""; const m = /^([\d.]+)\s*ha$/.exec(v); return m ? m[1] : String(Number(v) / 10000); };

/** The query string of /sites the form asks for. */
function query(offset) {
  const f = view.querySelector("#sites-form");
  const p = new URLSearchParams();
  const v = (n) => f.elements[n].value.trim();
  p.set("candidates", v("candidates"));
  if (v("function")) p.set("function", v("function"));
  if (v("min_ha")) p.set("min_area", `${v("min_ha")}ha`);
  if (v("max_ha")) p.set("max_area", `${v("max_ha")}ha`);
  if (v("min_far")) p.set("min_far", v("min_far"));
  if (v("min_floors")) p.set("min_floors", v("min_floors"));
  if (v("in")) p.set("in", v("in"));
  for (const row of f.querySelectorAll(".near-row")) {
    const km = row.querySelector("[name=near_km]").value.trim();
    if (km) p.append("near", `${row.querySelector("[name=near_what]").value}:${km}km`);
  }
  const ex = [];
  if (f.elements.ex_projects.checked) ex.push("projects");
  if (f.elements.ex_water.checked) ex.push("water:50");
  if (f.elements.ex_defence.checked) ex.push("defence:200");
  if (ex.length) p.set("exclude", ex.join(","));
  if (v("unit")) p.set("unit", v("unit"));
  p.set("sort", v("sort"));
  p.set("as_of", state.asOf);
  p.set("limit", String(PAGE));
  if (offset) p.set("offset", String(offset));
  return p;
}

async function run(offset) {
  const out = view.querySelector("#sites-out");
  const p = query(offset);
  lastQuery = p;
  url.set({ sites: p.toString() });
  out.innerHTML = `<p class="muted">${esc(tr("Đang tìm…", "Searching…"))}</p>`;
  let fc;
  try {
    p.set("f", "geojson");
    fc = await api(`/sites?${p}`);
  } catch (e) {
    out.innerHTML = `<p class="error" id="sites-error">${esc(e.message)}</p>`;
    results(null);
    return;
  }
  lastFc = fc;
  fc.features.forEach((f, i) => { f.properties = { ...f.properties, rank: offset + i + 1 }; });
  results({ type: "FeatureCollection", features: fc.features.map((f) => ({ ...f, properties: { rank: f.properties.rank } })) });
  if (fc.features.length) zoomTo(bboxOf(fc), 14);
  // The downloads hold every site (up to the API's 1000), not this page.
  const all = (f) => { const q = new URLSearchParams(p); q.delete("offset"); q.set("limit", "1000"); q.set("f", f); return q; };
  const csv = all("csv"), gj = all("geojson");
  const items = fc.features.map((f) => {
    const s = f.properties;
    const title = s.kind === "lot" ? `${tr("Lô", "Lot")} ${s.lot_symbol || ""} · ${s.function || ""}` : `${tr("Thửa", "Parcel")} ${s.parcel_number} ${tr("tờ", "sheet")} ${s.sheet_number} · ${s.land_use_code || ""}`;
    const unit = s.units && (s.units.unit_2025 || s.units.commune);
    const dists = (s.distances || []).map((d) => `${esc(d.to)}: <b>${num(d.m / 1000, 1)} km</b>`).join(" · ");
    return `<li data-fid="${s.fid}" data-rank="${s.rank}" tabindex="0">
      <span class="score" title="${esc(tr("Điểm", "Score"))}">${num(s.score, 2)}</span>
      <b>${s.rank}.</b> ${esc(title)}<br>
      <span class="small">${esc(area(s.area_m2))}${s.zone ? " · " + esc(s.zone.name) : ""}${unit ? " · " + esc(unit.name) : ""}${s.plan_code ? " · " + esc(s.plan_code) : ""}</span>
      ${dists ? `<br><span class="small">${dists}</span>` : ""}</li>`;
  });
  out.innerHTML = `<p id="sites-total"><b>${num(fc.total)}</b> ${esc(tr("mặt bằng phù hợp", "matching sites"))}${fc.total ? ` · ${esc(tr("hiển thị", "showing"))} ${offset + 1}–${offset + fc.features.length}` : ""}</p>
    ${(fc.notes || []).map((n) => `<p class="small muted">${esc(n)}</p>`).join("")}
    <ul class="results" id="sites-list">${items.join("")}</ul>
    <div class="pager">
      <button type="button" id="sites-prev"${offset > 0 ? "" : " disabled"}>‹ ${esc(tr("Trước", "Previous"))}</button>
      <button type="button" id="sites-next"${offset + PAGE < fc.total ? "" : " disabled"}>${esc(tr("Sau", "Next"))} ›</button>
      <a class="btn" id="sites-csv" href="/sites?${csv}" download>CSV</a>
      <a class="btn" id="sites-geojson" href="/sites?${gj}" download="tim-mat-bang.geojson">GeoJSON</a>
    </div>
    <p class="small muted">${esc(tr("Điểm", "Score"))}: ${esc(fc.score ? fc.score.formula : "")}</p>`;
  out.querySelector("#sites-prev").addEventListener("click", () => run(Math.max(0, offset - PAGE)));
  out.querySelector("#sites-next").addEventListener("click", () => run(offset + PAGE));
  for (const li of out.querySelectorAll("#sites-list li")) {
    const pick = () => {
      for (const x of out.querySelectorAll("#sites-list li")) x.classList.toggle("active", x === li);
      const f = fc.features.find((x) => String(x.properties.fid) === li.dataset.fid);
      if (f) { highlight(f); zoomTo(bboxOf(f), 17); }
    };
    li.addEventListener("click", pick);
    li.addEventListener("keydown", (e) => { if (e.key === "Enter") pick(); });
  }
}

export async function init(m) {
  map = m;
  view = document.getElementById("view-sites");
  const saved = url.get("sites");
  try {
    const p = await api("/layers/pois/features?limit=1000");
    places = [...new Set(p.features.map((f) => f.properties.name).filter(Boolean))].sort((a, b) => a.localeCompare(b, "vi"));
  } catch (_) { /* kinds of place only */ }
  // planning.md's question: 2–10 ha for industry inside an IZ, ≤ 30 km from
  // Chu Lai airport and ≤ 20 km from Kỳ Hà port, not already taken.
  const airport = places.find((n) => /Chu Lai/.test(n) && /Sân bay/.test(n)) || "airport";
  const port = places.find((n) => /Kỳ Hà/.test(n)) || "seaport";
  form(new URLSearchParams(saved || `near=${encodeURIComponent(airport)}:30km&near=${encodeURIComponent(port)}:20km&in=industrial&function=industry&min_area=2ha&max_area=10ha&exclude=projects`));
  if (saved) run(Number(new URLSearchParams(saved).get("offset") || 0));
  on("lang", () => { const p = lastQuery || new URLSearchParams(url.get("sites") || ""); form(p); if (lastQuery) run(Number(p.get("offset") || 0)); });
  on("asof", () => { if (lastQuery) run(0); });
}
