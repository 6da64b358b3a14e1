// The planning card: what the plans say on a parcel (or a point) as of the
// page's day, from GET /planning — key, areas, land use, units before and
// after the 2025 merger, every plan with the governing one, zoning lots
// with shares and indicators, zones, projects — with printing the sheet,
// checking a proposal on the parcel, and a shareable link.
"use strict";
import { api, area, day, emit, esc, initialHash, num, on, state, toast, tr, url } from "./core.js";
import { highlight, zoomTo, bboxOf } from "./map.js";
import { landuse } from "./layers.js";

let map, current = null; // {parcel: fid} or {point: [lon, lat]}
let shown = null; // the card's element, answer and parcel id as drawn
export const mode = { browsing: true }; // false while measuring or drawing

const LEVELS = {
  "vùng": ["Quy hoạch vùng", "Regional plan"],
  "chung": ["Quy hoạch chung", "General plan"],
  "phân khu 1/2000": ["Quy hoạch phân khu 1/2000", "Zoning plan 1:2000"],
  "chi tiết 1/500": ["Quy hoạch chi tiết 1/500", "Detailed plan 1:500"],
  "nông thôn": ["Quy hoạch nông thôn", "Rural plan"],
};
const levelName = (l) => (LEVELS[l] ? tr(...LEVELS[l]) : l);

function subjectQuery(s) {
  return s.parcel !== undefined ? `parcel=${s.parcel}` : `point=${s.point[0]},${s.point[1]}`;
}

/** Opens the card for `{parcel: fid}` or `{point: [lon, lat]}`. */
export async function open(subject, { zoom = false, reveal = true } = {}) {
  current = subject;
  if (reveal) emit("show-tab", "card");
  url.set({ parcel: subject.parcel ?? null, point: subject.point ? subject.point.map((v) => v.toFixed(6)).join(",") : null });
  const el = document.getElementById("card");
  el.classList.remove("muted");
  el.innerHTML = `<p class="muted">${esc(tr("Đang tra cứu…", "Looking up…"))}</p>`;
  let info;
  try {
    info = await api(`/planning?${subjectQuery(subject)}&as_of=${state.asOf}`);
  } catch (e) {
    el.innerHTML = `<p class="error">${esc(e.message)}</p>`;
    return;
  }
  if (current !== subject) return; // a later click won
  const fid = info.subject.parcel ? info.subject.parcel.fid : null;
  if (fid !== null) {
    try {
      const f = await api(`/layers/parcels/features/${fid}`);
      highlight(f);
      if (zoom) zoomTo(bboxOf(f), 18);
    } catch (_) { /* the card stands without the outline */ }
  } else if (info.subject.point) {
    highlight({ type: "Point", coordinates: info.subject.point });
  }
  render(el, info, fid);
}

function render(el, info, fid) {
  shown = [el, info, fid];
  const p = info.subject.parcel;
  const lu = landuse();
  const rows = [];
  const kv = (k, v) => rows.push(`<dt>${esc(k)}</dt><dd>${v}</dd>`);
  let head;
  if (p) {
    head = `<div class="card-key" data-fid="${fid}">${esc(tr("Thửa", "Parcel"))} ${esc(p.parcel_number)} · ${esc(tr("tờ", "sheet"))} ${esc(p.sheet_number)}</div>
      <div>${esc(p.commune.name)}${p.district ? ", " + esc(p.district.name) : ""} <span class="muted small">(${esc(tr("trước 1/7/2025", "before 1 Jul 2025"))})</span></div>
      <div class="muted small">${esc(tr("Mã thửa", "Cadastral key"))} ${esc(p.cadastral_key)}</div>`;
    kv(tr("Đơn vị hành chính hiện nay", "Unit now"), p.unit_2025 ? esc(p.unit_2025.name) + ` <span class="muted small">(${esc(p.unit_2025.code)})</span>` : "—");
    kv(tr("Diện tích pháp lý", "Legal area"), esc(area(p.legal_area)));
    if (info.subject.area_m2 !== undefined) kv(tr("Diện tích đo (VN-2000)", "Measured area (VN-2000)"), esc(area(info.subject.area_m2)));
    if (p.address) kv(tr("Địa chỉ", "Address"), esc(p.address));
  } else {
    const pt = info.subject.point || [];
    head = `<div class="card-key">${esc(tr("Vị trí", "Location"))} ${num(pt[1], 6)}, ${num(pt[0], 6)}</div>
      <div class="muted small">${esc(tr("Không có thửa đất tại điểm này.", "No parcel at this point."))}</div>`;
  }
  const uses = (info.land_use || []).map((u) => {
    const c = (lu[u.code] || {}).colour || "#e0e0e0";
    return `<span class="swatch" style="background:${esc(c)}"></span><b>${esc(u.code)}</b> ${esc(u.name)}`;
  });
  if (uses.length) kv(tr("Loại đất", "Land use"), uses.join("<br>"));
  const units = (info.admin_units || []).map((u) => `${esc(u.name)}${u.share_pct !== undefined && u.share_pct !== null && u.share_pct < 100 ? ` (${num(u.share_pct, 1)} %)` : ""}`);
  if (units.length) kv(tr(`Địa giới ngày ${day(info.as_of)}`, `Units on ${day(info.as_of)}`), units.join(" · "));

  const plans = (info.plans || []).map((pl) => `<tr>
      <td>${pl.governs ? `<span class="badge governs">${esc(tr("áp dụng", "governs"))}</span> ` : ""}${esc(levelName(pl.level))}<br><b>${esc(pl.code)}</b> ${esc(pl.name)}</td>
      <td>${esc(pl.approval_decision || "")}<br><span class="muted small">${esc(day(pl.approval_date))}${pl.in_force ? "" : " · " + esc(pl.status)}</span></td>
      <td class="num">${pl.share_pct !== undefined && pl.share_pct !== null ? num(pl.share_pct, 1) + " %" : ""}</td></tr>`);
  const lots = (info.zoning_lots || []).map((l) => `<tr${l.in_governing_plan ? ' class="governing"' : ""}>
      <td><b>${esc(l.lot_symbol || "")}</b> <span class="muted small">${esc(l.zone_code || "")} · ${esc(l.plan_code || "")}</span><br>${esc(l.function || "")}</td>
      <td class="small">${esc(tr("MĐXD", "Cov."))} ${l.density_pct !== null ? num(l.density_pct) + " %" : "—"}<br>${esc(tr("Tầng", "Floors"))} ${l.floors_min ?? "—"}–${l.floors_max ?? "—"}<br>${esc(tr("HSSDĐ", "FAR"))} ${l.far !== null ? num(l.far, 2) : "—"}</td>
      <td class="num">${l.share_pct !== undefined && l.share_pct !== null ? num(l.share_pct, 1) + " %" : ""}<br><span class="small muted">${l.overlap_m2 !== undefined ? esc(area(l.overlap_m2)) : ""}</span></td></tr>`);
  const facts = (list) => list.map((z) => `<li>${esc(z.name)}${z.kind ? ` <span class="muted small">${esc(z.kind)}</span>` : ""}${z.share_pct !== undefined && z.share_pct !== null ? ` (${num(z.share_pct, 1)} %)` : ""}</li>`).join("");
  el.innerHTML = `${head}
    <dl class="kv">${rows.join("")}</dl>
    <div class="actions">
      ${fid !== null ? `<a class="btn" id="card-sheet" href="/planning/sheet?parcel=${fid}&as_of=${info.as_of}&f=pdf" target="_blank" rel="noopener">${esc(tr("In phiếu thông tin quy hoạch", "Print the planning sheet"))}</a>` : ""}
      ${fid !== null ? `<button type="button" id="card-check">${esc(tr("Kiểm tra đề xuất tại đây", "Check a proposal here"))}</button>` : ""}
      <button type="button" id="card-link">${esc(tr("Sao chép liên kết", "Copy link"))}</button>
    </div>
    <h3>${esc(tr("Quy hoạch", "Plans"))}</h3>
    ${plans.length ? `<table id="card-plans"><thead><tr><th>${esc(tr("Cấp, mã, tên", "Level, code, name"))}</th><th>${esc(tr("Quyết định", "Decision"))}</th><th class="num">${esc(tr("Tỷ lệ", "Share"))}</th></tr></thead><tbody>${plans.join("")}</tbody></table>` : `<p class="muted">${esc(tr("Không có quy hoạch nào phủ vị trí này vào ngày đã chọn.", "No plan covers this place on the chosen day."))}</p>`}
    <h3>${esc(tr("Lô đất quy hoạch", "Zoning lots"))}</h3>
    ${lots.length ? `<table id="card-lots"><thead><tr><th>${esc(tr("Lô, chức năng", "Lot, function"))}</th><th>${esc(tr("Chỉ tiêu", "Limits"))}</th><th class="num">${esc(tr("Tỷ lệ thửa", "Share"))}</th></tr></thead><tbody>${lots.join("")}</tbody></table>` : `<p class="muted">${esc(tr("Không thuộc lô quy hoạch nào.", "In no zoning lot."))}</p>`}
    ${info.lot_coverage ? `<p class="small muted">${esc(tr("Trong lô của quy hoạch áp dụng", "Inside the governing plan's lots"))}: ${num(info.lot_coverage.in_lots_pct, 1)} %</p>` : ""}
    ${(info.zones || []).length ? `<h3>${esc(tr("Khu công nghiệp, khu kinh tế", "Industrial and economic zones"))}</h3><ul>${facts(info.zones)}</ul>` : ""}
    ${(info.projects || []).length ? `<h3>${esc(tr("Dự án đầu tư", "Investment projects"))}</h3><ul id="card-projects">${facts(info.projects)}</ul>` : ""}
    <p class="small muted">${esc(tr(`Thông tin theo ngày ${day(info.as_of)}. Diện tích tính trên mặt phẳng VN-2000 (EPSG:5899).`, `As of ${day(info.as_of)}. Areas in the VN-2000 plane (EPSG:5899).`))}</p>`;
  const link = el.querySelector("#card-link");
  link.addEventListener("click", async () => {
    url.set({ as_of: state.asOf });
    try { await navigator.clipboard.writeText(location.href); } catch (_) { /* shown below anyway */ }
    link.dataset.copied = location.href;
    toast(tr("Đã sao chép liên kết", "Link copied") + ": " + location.href);
  });
  const chk = el.querySelector("#card-check");
  if (chk) chk.addEventListener("click", () => emit("check-parcel", fid));
}

export function init(m) {
  map = m;
  const clickable = ["parcels-fill", "zoning-lots", "investment-projects", "industrial-zones"];
  map.on("click", (e) => {
    if (!mode.browsing) return;
    const hits = map.queryRenderedFeatures(e.point, { layers: clickable.filter((l) => map.getLayer(l)) });
    const parcel = hits.find((h) => h.sourceLayer === "parcels" && h.id !== undefined);
    if (parcel) open({ parcel: parcel.id });
    else open({ point: [e.lngLat.lng, e.lngLat.lat] });
  });
  map.on("load", () => {
    for (const l of clickable) {
      map.on("mouseenter", l, () => { if (mode.browsing) map.getCanvas().style.cursor = "pointer"; });
      map.on("mouseleave", l, () => { map.getCanvas().style.cursor = ""; });
    }
  });
  on("select", (s) => open(s, { zoom: true }));
  on("asof", () => { if (current) open(current, { reveal: false }); });
  on("lang", () => { if (current) open(current, { reveal: false }); });
  // Land-use colours arrive with the style: draw the swatches then.
  on("legend", () => { if (shown) render(...shown); });
  // A shared link opens the card it names.
  const fid = url.get("parcel");
  const pt = url.get("point");
  if (fid && /^\d+$/.test(fid)) open({ parcel: Number(fid) }, { zoom: !initialHash });
  else if (pt && /^-?[\d.]+,-?[\d.]+$/.test(pt)) open({ point: pt.split(",").map(Number) });
}
