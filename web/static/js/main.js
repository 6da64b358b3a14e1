// The planning page: builds the map and the panel, and wires the parts —
// search box, planning card, site search, compliance check, projects,
// statistics, measuring, layers — through the page-wide events of core.js.
"use strict";
import { state, url, on, emit, tr } from "./core.js";
import { applyLabels } from "./i18n.js";
import * as mapx from "./map.js";
import * as search from "./search.js";
import * as card from "./card.js";
import * as sites from "./sites.js";
import * as check from "./check.js";
import * as projects from "./projects.js";
import * as stats from "./stats.js";
import * as measure from "./measure.js";
import * as layers from "./layers.js";

const TABS = ["card", "sites", "check", "projects", "stats", "layers"];

/** Shows one tab of the panel, remembered in the address. */
export function showTab(name) {
  if (!TABS.includes(name)) name = "card";
  for (const t of TABS) {
    const b = document.getElementById(`tab-${t}`);
    b.setAttribute("aria-selected", String(t === name));
    b.tabIndex = t === name ? 0 : -1;
    document.getElementById(`view-${t}`).hidden = t !== name;
  }
  url.set({ tab: name === "card" ? null : name });
  emit("tab", name);
}
on("show-tab", showTab);

function tabs() {
  const nav = document.getElementById("tabs");
  for (const t of TABS) document.getElementById(`tab-${t}`).addEventListener("click", () => showTab(t));
  // Arrow keys move along the tabs (WAI-ARIA tabs pattern).
  nav.addEventListener("keydown", (e) => {
    if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
    const i = TABS.findIndex((t) => document.getElementById(`tab-${t}`).getAttribute("aria-selected") === "true");
    const next = TABS[(i + (e.key === "ArrowRight" ? 1 : TABS.length - 1)) % TABS.length];
    showTab(next);
    document.getElementById(`tab-${next}`).focus();
  });
}

function header() {
  const asOf = document.getElementById("as-of");
  asOf.value = state.asOf;
  asOf.addEventListener("change", () => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf.value)) return;
    state.asOf = asOf.value;
    url.set({ as_of: state.asOf });
    emit("asof", state.asOf);
  });
  const lang = document.getElementById("lang");
  const paint = () => { lang.textContent = state.lang === "en" ? "VI" : "EN"; applyLabels(); };
  lang.addEventListener("click", () => {
    state.lang = state.lang === "en" ? "vi" : "en";
    url.set({ lang: state.lang === "en" ? "en" : null });
    paint();
    emit("lang", state.lang);
  });
  paint();
}

const map = mapx.create();
header();
tabs();
search.init(map);
card.init(map);
sites.init(map);
check.init(map);
projects.init(map);
stats.init();
measure.init(map);
layers.init(map);
showTab(url.get("tab") || "card");
document.title = tr("geoplan — Bản đồ quy hoạch Đà Nẵng", "geoplan — Da Nang planning map");
on("lang", () => { document.title = tr("geoplan — Bản đồ quy hoạch Đà Nẵng", "geoplan — Da Nang planning map"); });
