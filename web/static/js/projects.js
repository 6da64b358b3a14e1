// The investment-project registry: the list (stage filter, search, as of
// the page's day), a project's detail with its stage timeline, the next
// deadline and what the plan says on its site, the site on the map; signed-in
// editors move a project to its next stage with decision number and date.
"use strict";
import { api, area, day, esc, num, on, state, toast, tr, url, vnd } from "./core.js";
import { highlight, zoomTo, bboxOf } from "./map.js";

const STAGES = [
  ["proposed", "Đề xuất", "Proposed"], ["policy_approved", "Chấp thuận chủ trương", "Investment policy approved"],
  ["investor_selected", "Lựa chọn nhà đầu tư", "Investor selected"], ["land_allocated", "Giao đất, cho thuê đất", "Land allocated or leased"],
  ["building_permit", "Cấp phép xây dựng", "Building permit"], ["under_construction", "Đang xây dựng", "Under construction"],
  ["operating", "Đi vào hoạt động", "Operating"], ["suspended", "Tạm dừng", "Suspended"], ["terminated", "Chấm dứt", "Terminated"],
];
const stageName = (code, vi, en) => { const s = STAGES.find((x) => x[0] === code); return s ? tr(s[1], s[2]) : tr(vi || code, en || code); };

let view, current = null;

/** The editor's credentials for this tab (sessionStorage), as a header. */
function authHeader() {
  return sessionStorage.getItem("geoplan.auth");
}
function signIn(user, password) {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  sessionStorage.setItem("geoplan.auth", "Basic " + btoa(String.fromCharCode(...bytes)));
  sessionStorage.setItem("geoplan.user", user);
}

function shell() {
  const p = new URLSearchParams(url.get("projects") || "");
  view.innerHTML = `<h2>${esc(tr("Dự án đầu tư", "Investment projects"))}</h2>
    <form id="projects-form" class="grid">
      <label>${esc(tr("Giai đoạn", "Stage"))}<select name="status"><option value="">${esc(tr("— tất cả —", "— all —"))}</option>${STAGES.map(([c, vi, en]) => `<option value="${c}"${p.get("status") === c ? " selected" : ""}>${esc(tr(vi, en))}</option>`).join("")}</select></label>
      <label>${esc(tr("Tìm", "Search"))}<input name="q" type="search" value="${esc(p.get("q") || "")}" placeholder="${esc(tr("tên, nhà đầu tư, quyết định", "name, investor, decision"))}"></label>
      <label class="wide">${esc(tr("Đơn vị hành chính", "Administrative unit"))}<input name="unit" value="${esc(p.get("unit") || "")}" placeholder="${esc(tr("cũ hoặc mới, vd. Tam Kỳ", "old or new, e.g. Tam Kỳ"))}"></label>
    </form>
    <div id="project-detail" hidden></div>
    <div id="projects-out"></div>`;
  const f = view.querySelector("#projects-form");
  let t;
  f.addEventListener("input", () => { clearTimeout(t); t = setTimeout(list, 200); });
  f.addEventListener("submit", (e) => { e.preventDefault(); list(); });
}

async function list() {
  const f = view.querySelector("#projects-form");
  const p = new URLSearchParams();
  for (const n of ["status", "q", "unit"]) if (f.elements[n].value.trim()) p.set(n, f.elements[n].value.trim());
  url.set({ projects: p.toString() || null });
  p.set("as_of", state.asOf);
  const out = view.querySelector("#projects-out");
  let j;
  try { j = await api(`/projects?${p}`); } catch (e) { out.innerHTML = `<p class="error">${esc(e.message)}</p>`; return; }
  out.innerHTML = `<p id="projects-total"><b>${num(j.total)}</b> ${esc(tr("dự án", "projects"))} · ${esc(tr("ngày", "as of"))} ${esc(day(j.as_of))}</p>
    <ul class="results" id="projects-list">${j.projects.slice(0, 200).map((x) => `<li data-fid="${x.fid}" tabindex="0">
      <b>${esc(x.name)}</b><br><span class="small">${esc(stageName(x.stage, x.stage_vi, x.stage_en))} ${esc(tr("từ", "since"))} ${esc(day(x.stage_date))}${x.plan_conflict ? ` · <span class="badge bad">${esc(tr("vướng quy hoạch", "plan conflict"))}</span>` : ""}</span>
      <br><span class="small muted">${esc(x.investor || "")}${x.unit_2025 ? " · " + esc(x.unit_2025.name) : ""}${x.next_deadline ? ` · ${esc(tr("hạn", "due"))} ${esc(day(x.next_deadline))}` : ""}</span></li>`).join("")}</ul>`;
  for (const li of out.querySelectorAll("#projects-list li")) {
    li.addEventListener("click", () => open(Number(li.dataset.fid)));
    li.addEventListener("keydown", (e) => { if (e.key === "Enter") open(Number(li.dataset.fid)); });
  }
}

/** Shows one project's detail and its site. */
export async function open(fid) {
  current = fid;
  url.set({ project: fid });
  const el = view.querySelector("#project-detail");
  let d;
  try { d = await api(`/projects/${fid}?as_of=${state.asOf}`); } catch (e) { el.innerHTML = `<p class="error">${esc(e.message)}</p>`; return; }
  if (current !== fid) return;
  try { const f = await api(`/layers/investment_projects/features/${fid}`); highlight(f); zoomTo(bboxOf(f), 16); } catch (_) { /* detail without the map */ }
  const x = d; // the registry's facts are members of the detail
  const done = new Set((d.history || []).map((h) => h.to_stage));
  const hist = (d.history || []).map((h) => `<li><b>${esc(stageName(h.to_stage))}</b> · ${esc(day(h.day))}<br><span class="small">${esc(h.decision || "")}${h.authority ? " · " + esc(h.authority) : ""}${h.note ? " · " + esc(h.note) : ""}</span></li>`);
  const ahead = STAGES.slice(0, 7).filter(([c]) => !done.has(c)).map(([c, vi, en]) => `<li class="future muted">${esc(tr(vi, en))}</li>`);
  const plans = (d.planning.plans || []).filter((p) => p.governs).map((p) => `${esc(p.code)} — ${esc(p.name)}`);
  const editor = authHeader();
  el.hidden = false;
  view.querySelector("#projects-out").hidden = true;
  view.querySelector("#projects-form").hidden = true;
  el.innerHTML = `<button type="button" id="project-back">‹ ${esc(tr("Danh sách dự án", "All projects"))}</button>
    <h2 id="project-name">${esc(x.name)}</h2>
    <dl class="kv">
      <dt>${esc(tr("Giai đoạn", "Stage"))}</dt><dd id="project-stage"><b>${esc(stageName(x.stage, x.stage_vi, x.stage_en))}</b> ${esc(tr("từ", "since"))} ${esc(day(x.stage_date))}</dd>
      <dt>${esc(tr("Hạn tiếp theo", "Next deadline"))}</dt><dd id="project-deadline">${x.next_deadline ? `${esc(day(x.next_deadline))} — ${esc(x.next_deadline_what || "")}${x.next_deadline < state.asOf && !["operating", "terminated"].includes(x.stage) ? ` <span class="badge bad">${esc(tr("quá hạn", "overdue"))}</span>` : ""}` : "—"}</dd>
      <dt>${esc(tr("Nhà đầu tư", "Investor"))}</dt><dd>${esc(x.investor || "—")}</dd>
      <dt>${esc(tr("Chức năng", "Function"))}</dt><dd>${esc(x.function || "—")}</dd>
      <dt>${esc(tr("Vốn đăng ký / đã giải ngân", "Capital registered / disbursed"))}</dt><dd>${esc(vnd(x.capital_vnd))} / ${esc(vnd(x.capital_disbursed_vnd))}</dd>
      <dt>${esc(tr("Diện tích", "Area"))}</dt><dd>${x.area_ha !== null ? esc(area(x.area_ha * 10000)) : "—"}</dd>
      <dt>${esc(tr("Vị trí", "Location"))}</dt><dd>${esc([x.zone_name, x.unit_2025 && x.unit_2025.name, x.commune && `${tr("trước 2025", "before 2025")}: ${x.commune.name}`].filter(Boolean).join(" · ") || "—")}</dd>
      <dt>${esc(tr("Quy hoạch áp dụng", "Governing plan"))}</dt><dd>${plans.join("<br>") || "—"}</dd>
      <dt>${esc(tr("Thửa đất", "Parcels"))}</dt><dd>${num(d.parcel_count)}</dd>
    </dl>
    <h3>${esc(tr("Trình tự thủ tục", "Legal procedure"))}</h3>
    <ol class="timeline" id="project-timeline">${hist.join("")}${x.stage === "terminated" ? "" : ahead.join("")}</ol>
    <div id="project-advance">${d.allowed_next.length ? (editor ? advanceForm(d.allowed_next) : signInForm()) : `<p class="muted small">${esc(tr("Thủ tục đã kết thúc.", "The procedure has ended."))}</p>`}</div>`;
  wireForms(el, fid);
}

function advanceForm(allowed) {
  return `<h3>${esc(tr("Chuyển giai đoạn", "Move to the next stage"))} <span class="small muted">(${esc(sessionStorage.getItem("geoplan.user") || "")})</span></h3>
    <form id="advance-form" class="grid">
      <label>${esc(tr("Giai đoạn mới", "New stage"))}<select name="to">${allowed.map((a) => `<option value="${a.code}">${esc(stageName(a.code, a.vi, a.en))}</option>`).join("")}</select></label>
      <label>${esc(tr("Ngày", "Date"))}<input name="date" type="date" required value="${state.asOf}"></label>
      <label>${esc(tr("Số quyết định", "Decision number"))}<input name="decision" placeholder="123/QĐ-UBND"></label>
      <label>${esc(tr("Cơ quan", "Authority"))}<input name="authority" placeholder="UBND thành phố Đà Nẵng"></label>
      <label class="wide">${esc(tr("Ghi chú", "Note"))}<input name="note"></label>
      <div class="actions" style="grid-column:1/-1"><button class="primary" type="submit">${esc(tr("Ghi nhận", "Record"))}</button></div>
    </form><p id="advance-msg" role="alert"></p>`;
}

function signInForm() {
  return `<h3>${esc(tr("Cán bộ cập nhật: đăng nhập", "Editors: sign in"))}</h3>
    <form id="signin-form" class="grid">
      <label>${esc(tr("Tên đăng nhập", "User name"))}<input name="user" autocomplete="username" required></label>
      <label>${esc(tr("Mật khẩu", "Password"))}<input name="password" type="password" autocomplete="current-password" required></label>
      <div class="actions" style="grid-column:1/-1"><button type="submit">${esc(tr("Đăng nhập", "Sign in"))}</button></div>
    </form>`;
}

function wireForms(el, fid) {
  el.querySelector("#project-back").addEventListener("click", () => {
    current = null;
    url.set({ project: null });
    el.hidden = true;
    view.querySelector("#projects-out").hidden = false;
    view.querySelector("#projects-form").hidden = false;
    highlight(null);
  });
  const si = el.querySelector("#signin-form");
  if (si) si.addEventListener("submit", (e) => { e.preventDefault(); signIn(si.elements.user.value, si.elements.password.value); open(fid); });
  const adv = el.querySelector("#advance-form");
  if (!adv) return;
  adv.addEventListener("submit", async (e) => {
    e.preventDefault();
    const msg = el.querySelector("#advance-msg");
    const body = { to: adv.elements.to.value, date: adv.elements.date.value };
    for (const n of ["decision", "authority", "note"]) if (adv.elements[n].value.trim()) body[n] = adv.elements[n].value.trim();
    try {
      await api(`/projects/${fid}/transitions`, { method: "POST", body, headers: { Authorization: authHeader() } });
      toast(tr("Đã ghi nhận giai đoạn mới", "The new stage is recorded"));
      await open(fid);
      list();
    } catch (err) {
      if (err.status === 401) { sessionStorage.removeItem("geoplan.auth"); }
      msg.className = "error";
      msg.textContent = err.message;
    }
  });
}

export function init() {
  view = document.getElementById("view-projects");
  shell();
  let loaded = false;
  on("tab", (t) => { if (t === "projects" && !loaded) { loaded = true; list(); } });
  on("open-project", (fid) => { document.getElementById("tab-projects").click(); open(fid); });
  on("asof", () => { if (loaded) list(); if (current !== null) open(current); });
  on("lang", () => { shell(); if (loaded) list(); if (current !== null) open(current); });
  const pid = url.get("project");
  if (pid && /^\d+$/.test(pid)) { loaded = true; list(); open(Number(pid)); }
}
