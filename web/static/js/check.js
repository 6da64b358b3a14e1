// The compliance check of a proposed site (POST /planning/check): draw the
// site, or read it from a GeoJSON or KML file (WGS 84, or VN-2000 TM-3
// eastings/northings), or take a parcel from the card; say what is
// proposed; see every rule with its pass or fail sentence, the lots it
// touches on the map, and download the stored report as PDF.
"use strict";
import { api, area, esc, num, on, state, tr } from "./core.js";
import { results, zoomTo, bboxOf, highlight } from "./map.js";
import { landuse } from "./layers.js";
import * as draw from "./draw.js";

let view, site = null, siteCrs = null, siteFrom = "", lastResult = null;

function shell() {
  const codes = Object.entries(landuse()).sort(([a], [b]) => a.localeCompare(b));
  const options = codes.map(([c, e]) => `<option value="${esc(c)}">${esc(c)} — ${esc(e.name)}</option>`).join("");
  view.innerHTML = `<h2>${esc(tr("Kiểm tra vị trí đề xuất với quy hoạch", "Check a proposed site against the plan"))}</h2>
    <p class="small muted">${esc(tr("Vẽ ranh giới khu đất trên bản đồ (nhấp từng đỉnh, nhấp đỉnh đầu để đóng), hoặc tải tệp: shapefile nén (.zip), GeoPackage, KML, GeoJSON — WGS 84 hoặc VN-2000.", "Draw the site on the map (click each corner, click the first to close), or load a file: zipped shapefile, GeoPackage, KML, GeoJSON — WGS 84 or VN-2000."))}</p>
    <div class="actions">
      <button type="button" id="check-draw">${esc(tr("Vẽ khu đất", "Draw the site"))}</button>
      <label class="btn" for="check-file">${esc(tr("Tải tệp…", "Load a file…"))}</label>
      <input id="check-file" type="file" accept=".zip,.gpkg,.gml,.geojson,.json,.kml,application/geo+json,application/vnd.google-earth.kml+xml" class="sr-only">
    </div>
    <p id="check-site" class="small">${site ? siteText() : esc(tr("Chưa có khu đất.", "No site yet."))}</p>
    <form id="check-form" class="grid">
      <label class="wide">${esc(tr("Mục đích sử dụng đề xuất", "Proposed use"))}<select name="use" id="check-use">${options}</select></label>
      <label>${esc(tr("Số tầng", "Floors"))}<input name="floors" type="number" min="1" max="200" step="1"></label>
      <label>${esc(tr("Mật độ xây dựng (%)", "Building density (%)"))}<input name="density_pct" type="number" min="0" max="100" step="0.1"></label>
      <label>${esc(tr("Hệ số sử dụng đất", "Floor area ratio"))}<input name="far" type="number" min="0" max="100" step="0.01"></label>
      <label>${esc(tr("Tổng diện tích sàn (m²)", "Gross floor area (m²)"))}<input name="gfa_m2" type="number" min="0" step="1"></label>
      <div class="actions" style="grid-column:1/-1"><button class="primary" type="submit" id="check-run">${esc(tr("Kiểm tra", "Check"))}</button></div>
    </form>
    <div id="check-out"></div>`;
  view.querySelector("#check-draw").addEventListener("click", () => {
    draw.start("check", "polygon");
    view.querySelector("#check-site").textContent = tr("Đang vẽ: nhấp các đỉnh, nhấp lại đỉnh đầu để kết thúc.", "Drawing: click the corners, click the first again to finish.");
  });
  view.querySelector("#check-file").addEventListener("change", (e) => { if (e.target.files[0]) readFile(e.target.files[0]); });
  view.querySelector("#check-form").addEventListener("submit", (e) => { e.preventDefault(); run(); });
  if (lastResult) render(lastResult);
}

function siteText() {
  const polys = siteShown.type === "MultiPolygon" ? siteShown.coordinates : [siteShown.coordinates];
  const a = polys.reduce((t, p) => t + draw.area(p), 0);
  return `${esc(siteFrom)} · ${esc(tr("diện tích", "area"))} ${esc(area(a))} (VN-2000)`;
}

let siteShown = null; // the site in lon/lat, as drawn

/** The site to check: `geometry` in `crs` (null: lon/lat), `shown` in lon/lat. */
async function setSite(geometry, from, crs = null, shown = null) {
  await draw.ready(); // lengths and areas need proj4
  site = geometry;
  siteCrs = crs;
  siteFrom = from;
  shown = shown || (crs ? { type: "Polygon", coordinates: geometry.coordinates.map((r) => r.map(draw.lonlat)) } : geometry);
  siteShown = shown;
  draw.show("check", shown);
  zoomTo(bboxOf(shown), 18);
  const p = view.querySelector("#check-site");
  if (p) p.innerHTML = siteText();
}

/** The first polygon of a GeoJSON object. */
function firstPolygon(o) {
  if (!o) return null;
  if (o.type === "FeatureCollection") { for (const f of o.features) { const p = firstPolygon(f); if (p) return p; } return null; }
  if (o.type === "Feature") return firstPolygon(o.geometry);
  if (o.type === "Polygon") return o;
  if (o.type === "MultiPolygon" && o.coordinates.length) return { type: "Polygon", coordinates: o.coordinates[0] };
  return null;
}

/** The first polygon of a KML document (outer and inner rings). */
function kmlPolygon(text) {
  const doc = new DOMParser().parseFromString(text, "application/xml");
  if (doc.querySelector("parsererror")) throw new Error(tr("Tệp KML không đọc được", "The KML file cannot be read"));
  const poly = doc.getElementsByTagNameNS("*", "Polygon")[0];
  if (!poly) return null;
  const ring = (el) => el.textContent.trim().split(/\s+/).map((t) => t.split(",").slice(0, 2).map(Number));
  const outer = poly.getElementsByTagNameNS("*", "outerBoundaryIs")[0];
  const inner = [...poly.getElementsByTagNameNS("*", "innerBoundaryIs")];
  const coords = (b) => ring(b.getElementsByTagNameNS("*", "coordinates")[0]);
  return { type: "Polygon", coordinates: [coords(outer), ...inner.map(coords)] };
}

async function readFile(file) {
  const msg = view.querySelector("#check-site");
  try {
    // Shapefiles (zipped), GeoPackages, GML: the server reads them with GDAL
    // and says how it decided their CRS.
    if (/\.(zip|gpkg|gml|shp)$/i.test(file.name)) {
      const r = await fetch(`/planning/site-file?name=${encodeURIComponent(file.name)}`, { method: "POST", body: file });
      const j = await r.json().catch(() => ({}));
      if (!r.ok) throw new Error(j.detail || r.statusText);
      await setSite(j.site, `${tr("Tệp", "File")} ${file.name} (${j.crs})`, j.crs === "CRS:84" ? null : j.crs, j.site_crs84);
      view.querySelector("#check-site").insertAdjacentHTML("beforeend", `<br><span class="muted">${esc(j.how)}</span>`);
      return;
    }
    const text = await file.text();
    const g = /\.kml$/i.test(file.name) || /<kml[\s>]/.test(text.slice(0, 500)) ? kmlPolygon(text) : firstPolygon(JSON.parse(text));
    if (!g) throw new Error(tr("Tệp không có vùng (Polygon) nào", "The file holds no polygon"));
    // Eastings and northings rather than degrees: VN-2000 TM-3 107°45′.
    const projected = Math.abs(g.coordinates[0][0][0]) > 360;
    await setSite(g, `${tr("Tệp", "File")} ${file.name}${projected ? " (VN-2000 TM-3 107°45′)" : ""}`, projected ? "EPSG:5899" : null);
  } catch (e) {
    msg.className = "error small";
    msg.textContent = `${file.name}: ${e.message}`;
  }
}

async function run() {
  const out = view.querySelector("#check-out");
  if (!site) { out.innerHTML = `<p class="error">${esc(tr("Hãy vẽ hoặc tải khu đất trước.", "Draw or load the site first."))}</p>`; return; }
  const f = view.querySelector("#check-form");
  const proposal = { use: f.elements.use.value };
  for (const n of ["floors", "density_pct", "far", "gfa_m2"]) if (f.elements[n].value !== "") proposal[n] = Number(f.elements[n].value);
  const body = { site, proposal, as_of: state.asOf };
  if (siteCrs) body.crs = siteCrs;
  out.innerHTML = `<p class="muted">${esc(tr("Đang kiểm tra…", "Checking…"))}</p>`;
  try {
    lastResult = await api("/planning/check", { method: "POST", body });
  } catch (e) {
    out.innerHTML = `<p class="error" id="check-error">${esc(e.message)}</p>`;
    return;
  }
  render(lastResult);
}

async function render(rec) {
  const out = view.querySelector("#check-out");
  const r = rec.result;
  const rules = r.rules.map((x) => `<div class="rule ${x.pass ? "pass" : "fail"}" data-rule="${esc(x.rule)}">
      <span class="verdict">${x.pass ? esc(tr("Đạt", "Pass")) : esc(tr("Không đạt", "Fail"))}</span>${x.lot ? ` · <span class="small">${esc(tr("lô", "lot"))} ${esc(x.lot)}</span>` : ""}
      <div>${esc(tr(x.vi, x.en))}</div></div>`).join("");
  const levels = r.levels.map((l) => `<li>${esc(l.plan_code)}${l.governs ? ` <span class="badge governs">${esc(tr("áp dụng", "governs"))}</span>` : ""}: ${l.lots.map((x) => `${esc(x.lot_symbol || "")} (${num(x.share_pct, 1)} %)`).join(", ") || "—"}</li>`).join("");
  out.innerHTML = `<div class="verdict-box ${r.pass ? "pass" : "fail"}" id="check-verdict">${r.pass ? esc(tr("Phù hợp quy hoạch: đạt mọi điều kiện", "Fits the plan: every rule passes")) : esc(tr(`Không phù hợp: ${r.failed} điều kiện không đạt`, `Does not fit: ${r.failed} rule(s) fail`))}</div>
    <div class="actions"><a class="btn" id="check-pdf" href="/planning/check/${esc(rec.id)}?f=pdf" target="_blank" rel="noopener">${esc(tr("Tải báo cáo PDF", "Download the PDF report"))}</a>
      <span class="small muted">${esc(tr("Mã xác minh", "Verification code"))} <b>${esc(rec.code)}</b></span></div>
    <h3>${esc(tr("Các điều kiện", "Rules"))}</h3>${rules}
    <h3>${esc(tr("Lô quy hoạch bị chạm", "Zoning lots touched"))}</h3><ul>${levels}</ul>`;
  const lots = r.levels.flatMap((l) => l.lots);
  const feats = [];
  for (const [i, l] of lots.entries()) {
    try {
      const f = await api(`/layers/${l.source.layer}/features/${l.source.fid}`);
      feats.push({ ...f, properties: { rank: l.lot_symbol || String(i + 1) } });
    } catch (_) { /* the list stands without the outline */ }
  }
  results({ type: "FeatureCollection", features: feats });
  highlight(null);
}

export function init() {
  view = document.getElementById("view-check");
  shell();
  draw.listen(({ owner, feature, done }) => {
    if (owner !== "check" || !done) return;
    draw.stop();
    setSite(feature.geometry, tr("Khu đất vẽ trên bản đồ", "Site drawn on the map"));
  });
  on("check-parcel", async (fid) => {
    document.getElementById("tab-check").click();
    try {
      const f = await api(`/layers/parcels/features/${fid}`);
      const g = firstPolygon(f);
      if (g) await setSite(g, `${tr("Thửa đất", "Parcel")} #${fid}`);
    } catch (e) { view.querySelector("#check-site").textContent = e.message; }
  });
  on("lang", shell);
  // The proposed use lists every code of the style's legend once it is in.
  on("legend", () => {
    const v = view.querySelector("#check-use")?.value;
    shell();
    if (v) view.querySelector("#check-use").value = v;
  });
}
