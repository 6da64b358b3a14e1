// The one search box: suggestions from GET /search as you type (cadastral
// keys in any spelling, addresses, units old and new, plans, decisions,
// lots, zones, projects, places), arrow keys and Enter to choose, Escape to
// close; a choice zooms to it, highlights it and opens what it is.
"use strict";
import { api, emit, esc, on, state, tr } from "./core.js";
import { highlight, zoomTo } from "./map.js";

const KINDS = {
  parcel: ["Thửa đất", "Parcel"], unit: ["Địa giới", "Unit"], plan: ["Quy hoạch", "Plan"],
  project: ["Dự án", "Project"], zone: ["KCN / KKT", "Zone"], lot: ["Lô QH", "Lot"], place: ["Địa điểm", "Place"],
};

let input, list, box, hits = [], active = -1, seq = 0, timer = null;

function render() {
  list.innerHTML = "";
  if (!hits.length) {
    list.innerHTML = `<li class="empty" role="option" aria-disabled="true">${esc(tr("Không tìm thấy. Thử: tờ 12 thửa 345 Minh An, QHPK, KCN Tam Thăng…", "Nothing found. Try: sheet 12 parcel 345 Minh An, QHPK, KCN Tam Thăng…"))}</li>`;
  }
  hits.forEach((h, i) => {
    const li = document.createElement("li");
    li.id = `search-opt-${i}`;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", String(i === active));
    li.dataset.kind = h.kind;
    li.innerHTML = `<span class="kind">${esc(tr(...(KINDS[h.kind] || [h.kind, h.kind])))}</span>${esc(h.label)}<span class="detail">${esc(h.detail)}</span>`;
    li.addEventListener("mousedown", (e) => { e.preventDefault(); choose(i); });
    list.appendChild(li);
  });
  list.hidden = false;
  box.setAttribute("aria-expanded", "true");
  input.setAttribute("aria-activedescendant", active >= 0 ? `search-opt-${active}` : "");
}

function close() {
  list.hidden = true;
  box.setAttribute("aria-expanded", "false");
  active = -1;
}

async function suggest() {
  const q = input.value.trim();
  const mine = ++seq;
  if (!q) { hits = []; close(); return; }
  try {
    const j = await api(`/search?q=${encodeURIComponent(q)}&limit=10&as_of=${state.asOf}`);
    if (mine !== seq) return; // a later keystroke won
    hits = j.results;
    active = hits.length ? 0 : -1;
    render();
  } catch (e) {
    if (mine === seq) { hits = []; render(); }
  }
}

async function choose(i) {
  const h = hits[i];
  if (!h) return;
  close();
  input.value = h.label;
  if (h.kind === "parcel") { emit("select", { parcel: h.fid }); return; }
  zoomTo(h.bbox, h.kind === "unit" || h.kind === "plan" || h.kind === "zone" ? 15 : 18);
  try { highlight(await api(`/layers/${h.layer}/features/${h.fid}`)); } catch (_) { highlight(null); }
  if (h.kind === "project") emit("open-project", h.fid);
  else if (h.kind === "lot" && h.bbox) emit("select", { point: [(h.bbox[0] + h.bbox[2]) / 2, (h.bbox[1] + h.bbox[3]) / 2] });
}

export function init() {
  input = document.getElementById("search-input");
  list = document.getElementById("search-list");
  box = document.getElementById("search");
  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(suggest, 60); });
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (list.hidden) { suggest(); return; }
      if (!hits.length) return;
      active = (active + (e.key === "ArrowDown" ? 1 : hits.length - 1)) % hits.length;
      render();
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (!list.hidden && active >= 0) choose(active);
      else suggest();
    } else if (e.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
  on("lang", () => { if (!list.hidden) render(); });
}
