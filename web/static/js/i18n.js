// The page's fixed labels in Vietnamese and English. Elements name their
// label with data-i18n (text), data-i18n-placeholder, data-i18n-title or
// data-i18n-aria; parts drawn by script use tr() from core.js instead.
"use strict";
import { state } from "./core.js";

const LABELS = {
  "brand.title": ["Bản đồ quy hoạch và đất đai — TP Đà Nẵng", "Planning and land map — Da Nang City"],
  "search.label": ["Tìm kiếm", "Search"],
  "search.placeholder": ["Tìm thửa đất (tờ 12 thửa 345 Minh An), địa chỉ, quy hoạch, dự án, xã phường…",
    "Find a parcel (sheet 12 parcel 345 Minh An), address, plan, project, commune…"],
  "asof.label": ["Ngày", "As of"],
  "asof.title": ["Thông tin theo ngày (quy hoạch, địa giới, thống kê)", "Information as of this day (plans, boundaries, statistics)"],
  "lang.other": ["English", "Tiếng Việt"],
  "tab.card": ["Thông tin", "Information"],
  "tab.sites": ["Tìm mặt bằng", "Site search"],
  "tab.check": ["Kiểm tra", "Check a site"],
  "tab.projects": ["Dự án", "Projects"],
  "tab.stats": ["Thống kê", "Statistics"],
  "tab.layers": ["Lớp bản đồ", "Map layers"],
  "card.hint": ["Nhấp vào một thửa đất hoặc lô quy hoạch trên bản đồ, hoặc tìm theo số tờ, số thửa.",
    "Click a parcel or a zoning lot on the map, or search by sheet and parcel number."],
  "layers.title": ["Lớp dữ liệu", "Data layers"],
  "legend.title": ["Chú giải", "Legend"],
  "map.label": ["Bản đồ", "Map"],
  "measure.label": ["Đo", "Measure"],
  "measure.line": ["Đo dài", "Distance"],
  "measure.area": ["Đo diện tích", "Area"],
  "measure.line_title": ["Đo khoảng cách (VN-2000, kinh tuyến trục 107°45′)", "Measure a distance (VN-2000, central meridian 107°45′)"],
  "measure.area_title": ["Đo diện tích (VN-2000, kinh tuyến trục 107°45′)", "Measure an area (VN-2000, central meridian 107°45′)"],
  "measure.clear": ["Xoá", "Clear"],
};

/** The label `key` in the page's language. */
export function label(key) {
  const l = LABELS[key];
  return l ? l[state.lang === "en" ? 1 : 0] : key;
}

/** Writes every fixed label of the page in the current language. */
export function applyLabels(root = document) {
  document.documentElement.lang = state.lang;
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = label(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = label(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = label(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll("[data-i18n-aria]")) el.setAttribute("aria-label", label(el.dataset.i18nAria));
}
