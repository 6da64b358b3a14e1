// Statistics: land use by administrative unit as of the page's day, from
// GET /stats/landuse — a bar chart of area by land use and a table per
// unit, downloadable as CSV or XLSX; before 1 July 2025 the old communes
// and districts, from then the 94 new units.
"use strict";
import { api, day, esc, num, on, state, tr, url } from "./core.js";
import { landuse } from "./layers.js";

const MERGER = "2025-07-01";
let view, loaded = false, unitPick = null;

function shell() {
  const p = new URLSearchParams(url.get("stats") || "");
  const after = state.asOf >= MERGER;
  const level = p.get("level") || "commune";
  view.innerHTML = `<h2>${esc(tr("Thống kê sử dụng đất", "Land-use statistics"))}</h2>
    <p class="small">${esc(tr("Địa giới theo ngày", "Geography of"))} <b id="stats-day">${esc(day(state.asOf))}</b>:
      ${esc(after ? tr("94 đơn vị cấp xã của TP Đà Nẵng sau sáp nhập", "the 94 commune-level units of Da Nang after the merger") : tr("xã, phường, quận, huyện trước 1/7/2025", "communes and districts before 1 Jul 2025"))}</p>
    <div class="actions">
      <button type="button" id="stats-before">${esc(tr("Trước sáp nhập (30/6/2025)", "Before the merger (30 Jun 2025)"))}</button>
      <button type="button" id="stats-after">${esc(tr("Sau sáp nhập (1/7/2025)", "After the merger (1 Jul 2025)"))}</button>
    </div>
    <form id="stats-form" class="grid">
      <label>${esc(tr("Cấp", "Level"))}<select name="level">
        <option value="commune"${level === "commune" ? " selected" : ""}>${esc(tr("Xã, phường", "Commune"))}</option>
        <option value="district"${level === "district" && !after ? " selected" : ""}${after ? " disabled" : ""}>${esc(tr("Quận, huyện (trước 2025)", "District (before 2025)"))}</option>
        <option value="province"${level === "province" ? " selected" : ""}>${esc(tr("Tỉnh, thành phố", "Province"))}</option></select></label>
      <label>${esc(tr("Nhóm", "Grouping"))}<select name="group">
        <option value="code">${esc(tr("Theo mã loại đất", "By land-use code"))}</option>
        <option value="group"${p.get("group") === "group" ? " selected" : ""}>${esc(tr("Theo nhóm đất (NNP, PNN, CSD)", "By group (NNP, PNN, CSD)"))}</option></select></label>
      <label class="wide">${esc(tr("Đơn vị (để trống: tất cả)", "Unit (empty: all)"))}<input name="unit" value="${esc(p.get("unit") || "")}" placeholder="${esc(tr("vd. Hải Châu", "e.g. Hải Châu"))}"></label>
      <div class="actions" style="grid-column:1/-1"><button class="primary" type="submit" id="stats-run">${esc(tr("Thống kê", "Compute"))}</button></div>
    </form>
    <div id="stats-out"></div>`;
  const f = view.querySelector("#stats-form");
  f.addEventListener("submit", (e) => { e.preventDefault(); unitPick = null; run(); });
  f.addEventListener("change", () => { unitPick = null; run(); });
  const jump = (d) => { const i = document.getElementById("as-of"); i.value = d; i.dispatchEvent(new Event("change")); };
  view.querySelector("#stats-before").addEventListener("click", () => jump("2025-06-30"));
  view.querySelector("#stats-after").addEventListener("click", () => jump(MERGER));
}

function query() {
  const f = view.querySelector("#stats-form");
  const p = new URLSearchParams();
  p.set("level", f.elements.level.value);
  p.set("group", f.elements.group.value);
  if (f.elements.unit.value.trim()) p.set("unit", f.elements.unit.value.trim());
  url.set({ stats: p.toString() });
  p.set("as_of", state.asOf);
  return p;
}

/** Horizontal bars of area by land use, coloured as the map draws them. */
function chart(rows) {
  const by = new Map();
  for (const r of rows) {
    const e = by.get(r.land_use) || { code: r.land_use, name: r.land_use_name, ha: 0 };
    e.ha += r.area_ha;
    by.set(r.land_use, e);
  }
  const bars = [...by.values()].sort((a, b) => b.ha - a.ha).slice(0, 15);
  if (!bars.length) return "";
  const max = bars[0].ha || 1, lu = landuse(), h = 20, w = 360, lw = 48, vw = 86;
  const groupColour = { NNP: "#cfe8a9", PNN: "#f4b183", CSD: "#d9d9d9" };
  const body = bars.map((b, i) => {
    const bw = Math.max(1, ((w - lw - vw) * b.ha) / max);
    const c = (lu[b.code] || {}).colour || groupColour[b.code] || "#9aa5b1";
    return `<g transform="translate(0,${i * h})"><title>${esc(b.code)} ${esc(b.name)}: ${num(b.ha, 2)} ha</title>
      <text x="0" y="14">${esc(b.code)}</text>
      <rect x="${lw}" y="3" width="${bw.toFixed(1)}" height="${h - 6}" fill="${esc(c)}" stroke="#666" stroke-width="0.5"></rect>
      <text x="${(lw + bw + 4).toFixed(1)}" y="14">${num(b.ha, 1)} ha</text></g>`;
  }).join("");
  return `<svg class="chart" id="stats-chart" role="img" aria-label="${esc(tr("Diện tích theo loại đất", "Area by land use"))}" viewBox="0 0 ${w} ${bars.length * h}" width="100%">${body}</svg>`;
}

async function run() {
  const out = view.querySelector("#stats-out");
  const p = query();
  out.innerHTML = `<p class="muted">${esc(tr("Đang tính…", "Computing…"))}</p>`;
  let s;
  try { s = await api(`/stats/landuse?${p}`); } catch (e) { out.innerHTML = `<p class="error" id="stats-error">${esc(e.message)}</p>`; return; }
  const rows = unitPick ? s.rows.filter((r) => r.unit_code === unitPick) : s.rows;
  const picked = unitPick && s.units.find((u) => u.unit_code === unitPick);
  const dl = (f) => { const q = new URLSearchParams(p); q.set("f", f); return `/stats/landuse?${q}`; };
  out.innerHTML = `<p id="stats-total">${esc(tr("Tổng", "Total"))}: <b>${num(s.total.parcels)}</b> ${esc(tr("thửa", "parcels"))}, <b>${num(s.total.area_m2 / 10000, 1)}</b> ha
      ${s.reconciles === true ? ` · <span class="badge governs">${esc(tr("khớp toàn bộ lớp thửa", "reconciles with the parcel layer"))}</span>` : s.reconciles === false ? ` · <span class="badge bad">${esc(tr("không khớp lớp thửa", "does not reconcile"))}</span>` : ""}</p>
    <h3>${esc(picked ? picked.unit_name : tr("Diện tích theo loại đất", "Area by land use"))}</h3>
    ${chart(rows)}
    <div class="actions"><a class="btn" id="stats-csv" href="${dl("csv")}" download>CSV</a><a class="btn" id="stats-xlsx" href="${dl("xlsx")}" download>XLSX</a>
      ${unitPick ? `<button type="button" id="stats-all">${esc(tr("Tất cả đơn vị", "All units"))}</button>` : ""}</div>
    <table id="stats-table"><thead><tr><th>${esc(tr("Đơn vị", "Unit"))}</th><th class="num">${esc(tr("Số thửa", "Parcels"))}</th><th class="num">${esc(tr("Diện tích (ha)", "Area (ha)"))}</th></tr></thead>
      <tbody>${s.units.map((u) => `<tr data-unit="${esc(u.unit_code)}" tabindex="0"${u.unit_code === unitPick ? ' class="active"' : ""}><td>${esc(u.unit_name)} <span class="small muted">${esc(u.unit_code)}</span></td><td class="num">${num(u.parcels)}</td><td class="num">${num(u.area_m2 / 10000, 2)}</td></tr>`).join("")}</tbody></table>
    ${(s.notes || []).map((n) => `<p class="small muted">${esc(n)}</p>`).join("")}`;
  for (const tr_ of out.querySelectorAll("#stats-table tbody tr")) {
    const pick = () => { unitPick = tr_.dataset.unit; run(); };
    tr_.addEventListener("click", pick);
    tr_.addEventListener("keydown", (e) => { if (e.key === "Enter") pick(); });
  }
  const all = out.querySelector("#stats-all");
  if (all) all.addEventListener("click", () => { unitPick = null; run(); });
}

export function init() {
  view = document.getElementById("view-stats");
  shell();
  on("tab", (t) => { if (t === "stats" && !loaded) { loaded = true; run(); } });
  on("asof", () => { shell(); if (loaded) run(); });
  on("lang", () => { shell(); if (loaded) run(); });
}
