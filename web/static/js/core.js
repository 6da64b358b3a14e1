// What every part of the page shares: the language and the as-of day, a
// small event bus, text in both languages, number and date formatting,
// HTML escaping, JSON fetching with the server's problem details, and the
// page's query parameters (the shareable state).
"use strict";

/** Page-wide events: "lang", "asof", "select" (a feature chosen). */
export const bus = new EventTarget();
export const emit = (name, detail) => bus.dispatchEvent(new CustomEvent(name, { detail }));
export const on = (name, f) => bus.addEventListener(name, (e) => f(e.detail));

const params = new URLSearchParams(location.search);

/** The map position the address came with (the map rewrites it at once). */
export const initialHash = location.hash;

/** The shareable state: query parameters kept in the address bar. */
export const url = {
  get: (k) => new URLSearchParams(location.search).get(k),
  set(values) {
    const p = new URLSearchParams(location.search);
    for (const [k, v] of Object.entries(values)) {
      if (v === null || v === undefined || v === "") p.delete(k); else p.set(k, v);
    }
    const s = p.toString();
    history.replaceState(null, "", location.pathname + (s ? "?" + s : "") + location.hash);
  },
};

/** Today in Việt Nam (UTC+7), YYYY-MM-DD. */
export function todayVn() {
  return new Date(Date.now() + 7 * 3600e3).toISOString().slice(0, 10);
}

export const state = {
  lang: params.get("lang") === "en" ? "en" : "vi",
  asOf: /^\d{4}-\d{2}-\d{2}$/.test(params.get("as_of") || "") ? params.get("as_of") : todayVn(),
};

/** The text in the page's language. */
export const tr = (vi, en) => (state.lang === "en" ? en : vi);

export function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

/** A number with Vietnamese (1.234,5) or English (1,234.5) grouping. */
export function num(v, digits = 0) {
  if (v === null || v === undefined || Number.isNaN(Number(v))) return "—";
  return Number(v).toLocaleString(state.lang === "en" ? "en-GB" : "vi-VN", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** An area in m², with hectares beside it when large. */
export function area(m2) {
  if (m2 === null || m2 === undefined) return "—";
  return m2 >= 10000 ? `${num(m2, 1)} m² (${num(m2 / 10000, 2)} ha)` : `${num(m2, 1)} m²`;
}

/** "2025-07-01" → "01/07/2025". */
export function day(d) {
  if (!d) return "—";
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(d);
  return m ? `${m[3]}/${m[2]}/${m[1]}` : d;
}

/** Money in VND, shortened to tỷ (10⁹) / billion. */
export function vnd(v) {
  if (v === null || v === undefined) return "—";
  return `${num(v / 1e9, 1)} ${tr("tỷ đồng", "billion VND")}`;
}

/** An error from the server, with its problem-details message. */
export class ApiFailure extends Error {
  constructor(status, message, body) { super(message); this.status = status; this.body = body; }
}

/** GET or send JSON; throws ApiFailure with the server's message. */
export async function api(path, { method = "GET", body, headers = {} } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers } };
  if (body !== undefined) { init.body = JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
  const r = await fetch(path, init);
  const text = await r.text();
  let j = null;
  try { j = text ? JSON.parse(text) : null; } catch (_) { /* not JSON */ }
  if (!r.ok) throw new ApiFailure(r.status, (j && (j.detail || j.title || j.message)) || text || r.statusText, j);
  return j;
}

/** Shows a short message at the bottom of the page. */
export function toast(msg) {
  const t = document.getElementById("toast");
  t.textContent = msg;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 3500);
}

/** Saves a file the browser was given as text or a Blob. */
export function download(name, data, type = "text/plain") {
  const blob = data instanceof Blob ? data : new Blob([data], { type });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}
