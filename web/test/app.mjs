// Drives the planning page in headless Chromium (Debian's package) with
// Playwright as an investment officer would, feature by feature: the
// search box, the planning card (print, check here, shareable link),
// measuring in VN-2000, site search (list, map, paging, CSV), the
// compliance check (drawn, from a file, PDF), the project registry (list,
// detail, an editor moves a stage), statistics (chart, table, CSV/XLSX,
// before and after the merger), the as-of day, English, a phone screen,
// keyboard use. What it expects it reads from the API, never hard-coded.
//
//   node web/test/app.mjs http://127.0.0.1:PORT SHOT_DIR EDITOR_USER EDITOR_PASSWORD
//
// Prints one line per check and "N passed, M failed"; exits 1 on failure.
// Screenshots of each view go to SHOT_DIR, for a person to look at.
import { chromium } from "playwright-core";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [base, shots, editorUser, editorPassword] = process.argv.slice(2);
if (!base || !shots) {
  console.error("usage: node web/test/app.mjs BASE_URL SHOT_DIR EDITOR_USER EDITOR_PASSWORD");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
let passed = 0, failed = 0;
function check(ok, what, detail = "") {
  if (ok) { passed++; console.log(`ok   ${what}`); }
  else { failed++; console.log(`FAIL ${what} ${String(detail).slice(0, 600)}`); }
}
const get = async (p, headers = {}) => { const r = await fetch(base + p, { headers }); if (!r.ok) throw new Error(`${p}: ${r.status} ${await r.text()}`); return r.json(); };
const asEditor = { Authorization: "Basic " + Buffer.from(`${editorUser}:${editorPassword}`).toString("base64") };
const vi = (v, d = 1) => Number(v).toLocaleString("vi-VN", { maximumFractionDigits: d });

// A parcel of Phường Minh An (Hội An) with a governing plan: the question
// of planning.md, "tờ 12 thửa 345 Minh An", asked of a real key.
const minhAn = await get("/parcels?commune=Minh%20An&limit=200");
let subject = null;
for (const p of minhAn.parcels) {
  const info = await get(`/planning?parcel=${p.fid}&as_of=2026-01-01`);
  if (info.governing_plan && info.zoning_lots.length) { subject = { parcel: p, info }; break; }
}
check(subject !== null, "the sample has a Minh An parcel under a governing plan");
const P = subject.parcel;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
});
const errors = [];
const external = [];
async function newPage(viewport = { width: 1366, height: 768 }) {
  const ctx = await browser.newContext({ viewport, acceptDownloads: true, permissions: ["clipboard-read", "clipboard-write"] });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error" && !/status of 4\d\d/.test(m.text())) errors.push(m.text()); });
  page.on("request", (r) => { const u = r.url(); if (!u.startsWith(base) && !u.startsWith("data:") && !u.startsWith("blob:")) external.push(u); });
  return page;
}
const idle = (page) => page.waitForFunction(() => window.geoplanMap && window.geoplanMap.loaded() && window.geoplanMap.areTilesLoaded(), null, { timeout: 30000 });
const shot = (page, name) => page.screenshot({ path: join(shots, `${name}.png`) });

try {
  // ---- First paint, from a cold cache --------------------------------
  const page = await newPage();
  const t0 = Date.now();
  await page.goto(`${base}/#12/15.88/108.33`, { waitUntil: "domcontentloaded" });
  await page.waitForFunction(() => window.geoplanMap && window.geoplanMap.loaded(), null, { timeout: 30000 });
  const firstPaint = Date.now() - t0;
  console.log(`info first map paint from a cold cache: ${firstPaint} ms`);
  await idle(page);
  check(await page.locator("#tab-card").getAttribute("aria-selected") === "true", "the page opens on the information tab");

  // ---- 1. Search box ----------------------------------------------------
  const input = page.locator("#search-input");
  const query = `tờ ${P.sheet_number} thửa ${P.parcel_number} Minh An`;
  const t1 = Date.now();
  await input.pressSequentially(query, { delay: 15 });
  await page.waitForFunction((fid) => [...document.querySelectorAll("#search-list li")].some((li) => li.dataset.kind === "parcel"), P.fid, { timeout: 10000 }).catch(() => {});
  console.log(`info suggestions for "${query}" shown ${Date.now() - t1} ms after the first keystroke (typing took ${query.length * 15} ms)`);
  const first = page.locator("#search-list li").first();
  check(await first.getAttribute("data-kind") === "parcel", `"${query}" suggests the parcel first`, await page.locator("#search-list").innerText());
  check((await first.innerText()).includes(P.cadastral_key), "the suggestion names the cadastral key", await first.innerText());
  await shot(page, "01-search");
  await input.press("Enter");
  await page.waitForSelector(`#card .card-key[data-fid="${P.fid}"]`, { timeout: 10000 }).catch(() => {});
  check(await page.locator(`#card .card-key[data-fid="${P.fid}"]`).count() === 1, "Enter opens the parcel's planning card");
  await page.waitForTimeout(800);
  const hl = await page.evaluate(() => window.geoplanOverlays.highlight);
  check(hl && hl.id === P.fid, "the parcel is highlighted on the map", JSON.stringify(hl).slice(0, 200));
  check(new URL(page.url()).searchParams.get("parcel") === String(P.fid), "the address names the parcel", page.url());

  // Without diacritics, other spellings, other kinds.
  const plan = subject.info.plans.find((p) => p.governs);
  for (const [q, kind] of [[`thua ${P.parcel_number} to ${P.sheet_number} minh an`, "parcel"], [`${P.sheet_number}/${P.parcel_number} P. Minh An`, "parcel"],
    [plan.code, "plan"], [plan.approval_decision, "plan"], ["phuong minh an", "unit"], ["Điện Bàn", "unit"], ["Sân bay Chu Lai", "place"]]) {
    await input.fill("");
    await input.pressSequentially(q, { delay: 5 });
    await page.waitForFunction((k) => [...document.querySelectorAll("#search-list li")].some((li) => li.dataset.kind === k), kind, { timeout: 5000 }).catch(() => {});
    const kinds = await page.locator("#search-list li").evaluateAll((els) => els.map((e) => e.dataset.kind));
    check(kinds.includes(kind), `"${q}" suggests a ${kind}`, kinds.join(","));
  }
  // Keyboard: arrows move the choice, Escape closes.
  await input.press("ArrowDown");
  const sel = await page.locator('#search-list li[aria-selected="true"]').count();
  check(sel === 1, "arrow keys move through the suggestions");
  await input.press("Escape");
  check(await page.locator("#search-list").isHidden(), "Escape closes the suggestions");

  // ---- 2. Planning card -------------------------------------------------
  await page.goto(`${base}/?parcel=${P.fid}`, { waitUntil: "domcontentloaded" });
  await page.waitForSelector(`#card .card-key[data-fid="${P.fid}"]`, { timeout: 15000 });
  await idle(page);
  const card = await page.locator("#card").innerText();
  check(card.includes(P.cadastral_key), "the card shows the cadastral key", card.slice(0, 300));
  check(card.includes(`${vi(P.legal_area)} m²`), "the card shows the legal area", card.slice(0, 400));
  check(card.includes(P.commune.name) && card.includes(P.unit_2025.name), "the card names the unit before and after the merger", card.slice(0, 400));
  for (const lu of subject.info.land_use) check(card.includes(lu.code) && card.includes(lu.name), `the card names land use ${lu.code} ${lu.name}`);
  check(card.includes(plan.code) && (await page.locator("#card .badge.governs").count()) >= 1, `the card marks the governing plan ${plan.code}`);
  for (const p of subject.info.plans) check(card.includes(p.code), `the card lists plan ${p.code} (${p.level})`);
  for (const l of subject.info.zoning_lots) check(card.includes(l.lot_symbol) && card.includes(`${vi(l.share_pct)} %`), `the card lists lot ${l.lot_symbol} with its share ${vi(l.share_pct)} %`);
  await shot(page, "02-card");
  const sheetHref = await page.locator("#card-sheet").getAttribute("href");
  const sheet = await fetch(base + sheetHref);
  const sheetBytes = Buffer.from(await sheet.arrayBuffer());
  check(sheet.ok && sheet.headers.get("content-type").startsWith("application/pdf") && sheetBytes.subarray(0, 4).toString() === "%PDF", "“Print the planning sheet” gives the PDF sheet", sheet.status);
  writeFileSync(join(shots, "02-sheet.pdf"), sheetBytes);
  await page.locator("#card-link").click();
  const shared = await page.locator("#card-link").getAttribute("data-copied");
  const page2 = await newPage();
  await page2.goto(shared, { waitUntil: "domcontentloaded" });
  await page2.waitForSelector(`#card .card-key[data-fid="${P.fid}"]`, { timeout: 15000 }).catch(() => {});
  check(await page2.locator(`#card .card-key[data-fid="${P.fid}"]`).count() === 1, "the copied link opens the same card elsewhere", shared);
  await page2.close();

  // ---- 8. As-of day: a day before every plan leaves none governing -------
  const oldest = subject.info.plans.map((p) => p.approval_date).filter(Boolean).sort()[0];
  const before = new Date(Date.parse(oldest) - 86400e3).toISOString().slice(0, 10);
  const infoBefore = await get(`/planning?parcel=${P.fid}&as_of=${before}`);
  await page.locator("#as-of").fill(before);
  await page.locator("#as-of").dispatchEvent("change");
  await page.waitForFunction((n) => document.querySelectorAll("#card-plans tbody tr").length === n || (n === 0 && !document.querySelector("#card-plans") && document.querySelector("#card .card-key")), infoBefore.plans.length, { timeout: 10000 }).catch(() => {});
  const rowsBefore = await page.locator("#card-plans tbody tr").count();
  check(rowsBefore === infoBefore.plans.length && rowsBefore < subject.info.plans.length, `on ${before} the card shows the ${infoBefore.plans.length} plans of that day`, rowsBefore);
  check(new URL(page.url()).searchParams.get("as_of") === before, "the address keeps the day");
  await page.locator("#as-of").fill("2026-01-01");
  await page.locator("#as-of").dispatchEvent("change");
  await page.waitForTimeout(500);

  // ---- 3. Measuring in the legal plane, snapping to parcel corners -------
  const feat = await get(`/layers/parcels/features/${P.fid}`);
  const ring = feat.geometry.type === "Polygon" ? feat.geometry.coordinates[0] : feat.geometry.coordinates[0][0];
  await page.evaluate((r) => {
    const xs = r.map((c) => c[0]), ys = r.map((c) => c[1]);
    window.geoplanMap.fitBounds([[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]], { padding: 120, duration: 0 });
  }, ring);
  await idle(page);
  await page.waitForTimeout(400);
  await page.locator("#measure-area").click();
  const canvas = page.locator("#map canvas");
  const cbox = await canvas.boundingBox();
  const px = await page.evaluate((r) => r.map((c) => { const p = window.geoplanMap.project(c); return [p.x, p.y]; }), ring);
  // Click a little off each corner: the vertex snaps to it.
  for (const [x, y] of px.slice(0, -1)) await page.mouse.click(cbox.x + x + 3, cbox.y + y - 2);
  await page.mouse.click(cbox.x + px[0][0] + 3, cbox.y + px[0][1] - 2);
  await page.waitForTimeout(500);
  const measured = Number(await page.locator("#measure-out").getAttribute("data-m"));
  const truth = subject.info.subject.area_m2;
  check(Math.abs(measured - truth) / truth < 0.01, `the measured area (${measured.toFixed(1)} m²) matches the parcel's area in EPSG:5899 (${truth} m²) within 1 %`, await page.locator("#measure-out").innerText());
  check((await page.locator("#measure-out").innerText()).includes("m²"), "the area shows in m²");
  await shot(page, "03-measure");
  await page.locator("#measure-line").click();
  await page.mouse.click(cbox.x + px[0][0] + 2, cbox.y + px[0][1] + 2);
  await page.mouse.dblclick(cbox.x + px[1][0] + 2, cbox.y + px[1][1] + 2);
  await page.waitForTimeout(400);
  const side = await page.evaluate(([a, b]) => {
    const f = proj4("EPSG:4326", "EPSG:5899");
    const p = f.forward(a), q = f.forward(b);
    return Math.hypot(p[0] - q[0], p[1] - q[1]);
  }, [ring[0], ring[1]]);
  const len = Number(await page.locator("#measure-out").getAttribute("data-m"));
  check(Math.abs(len - side) < Math.max(0.05 * side, 0.5), `a distance along the parcel's side (${len.toFixed(2)} m, side ${side.toFixed(2)} m) snaps to its corners`);
  await page.locator("#measure-clear").click();

  // ---- 4. Site search ---------------------------------------------------
  await page.locator("#tab-sites").click();
  await page.locator("#sites-run").click();
  await page.waitForSelector("#sites-total", { timeout: 20000 });
  const sitesUrl = new URLSearchParams(new URL(page.url()).searchParams.get("sites"));
  const api = await get(`/sites?${sitesUrl}`);
  const totalText = await page.locator("#sites-total").innerText();
  check(api.total > 0 && totalText.includes(vi(api.total, 0)), `the site search finds the sites the API finds (${api.total})`, totalText);
  check(sitesUrl.getAll("near").includes("Sân bay Chu Lai:30km") && sitesUrl.getAll("near").some((n) => /Kỳ Hà.*:20km$/.test(n)) && sitesUrl.get("in") === "industrial",
    "the form asks planning.md's question: inside an IZ, ≤ 30 km from Chu Lai airport and ≤ 20 km from Kỳ Hà port", sitesUrl.toString());
  const items = await page.locator("#sites-list li").count();
  check(items === Math.min(20, api.total), `the first page lists ${Math.min(20, api.total)} sites`, items);
  const firstSite = await page.locator("#sites-list li").first().innerText();
  check(firstSite.includes("km") && firstSite.includes(api.results[0].distances[0].to), "each site shows its distance to the place", firstSite);
  const onMap = await page.evaluate(() => (window.geoplanOverlays.results || { features: [] }).features.length);
  check(onMap === items, "the results are drawn on the map", onMap);
  await page.waitForTimeout(600);
  await shot(page, "04-sites");
  const csvHref = await page.locator("#sites-csv").getAttribute("href");
  const csv = await (await fetch(base + csvHref)).text();
  check(csv.split("\n").filter((l) => l.trim()).length === Math.min(api.total, 1000) + 1, "the CSV download holds every site and a header", csv.slice(0, 200));
  if (api.total > 20) {
    await page.locator("#sites-next").click();
    await page.waitForFunction(() => document.querySelector("#sites-list li")?.dataset.rank === "21", null, { timeout: 10000 }).catch(() => {});
    check(await page.locator("#sites-list li").first().getAttribute("data-rank") === "21", "Next shows the second page");
  }
  const page3 = await newPage();
  await page3.goto(page.url(), { waitUntil: "domcontentloaded" });
  await page3.waitForSelector("#sites-total", { timeout: 20000 }).catch(() => {});
  check((await page3.locator("#sites-total").innerText().catch(() => "")).includes(vi(api.total, 0)), "the address reproduces the search");
  await page3.close();
  // A bad criterion gets the server's sentence.
  await page.locator("#sites-form [name=min_ha]").fill("12");
  await page.locator("#sites-form [name=max_ha]").fill("3");
  await page.locator("#sites-run").click();
  await page.waitForSelector("#sites-error", { timeout: 10000 }).catch(() => {});
  check((await page.locator("#sites-error").count()) === 1, "an inverted area range is refused with the server's reason", await page.locator("#sites-out").innerText());

  // ---- 5. Compliance check: the parcel from its card --------------------
  await page.goto(`${base}/?parcel=${P.fid}`, { waitUntil: "domcontentloaded" });
  await page.waitForSelector("#card-check", { timeout: 15000 });
  await idle(page);
  await page.locator("#card-check").click();
  await page.waitForFunction(() => /VN-2000/.test(document.querySelector("#check-site")?.textContent || ""), null, { timeout: 10000 }).catch(() => {});
  check(await page.locator("#view-check").isVisible() && (await page.locator("#check-site").innerText()).includes(`${P.fid}`), "“Check a proposal here” takes the parcel as the site", await page.locator("#check-site").innerText());
  const lot = subject.info.zoning_lots.find((l) => l.in_governing_plan) || subject.info.zoning_lots[0];
  const wrongUse = lot.function && /ở/i.test(lot.function) ? "SKC" : "ODT";
  await page.locator("#check-use").selectOption(wrongUse);
  await page.locator("#check-form [name=floors]").fill("150");
  await page.locator("#check-run").click();
  await page.waitForSelector("#check-verdict", { timeout: 20000 }).catch(() => {});
  const verdict = await page.locator("#check-verdict").innerText().catch(() => "");
  check(/Không phù hợp/.test(verdict), `a ${wrongUse} tower of 150 floors does not fit`, verdict);
  const fails = await page.locator(".rule.fail").count(), passes = await page.locator(".rule.pass").count();
  check(fails >= 1 && passes >= 1, `each rule says pass or fail with its sentence (${passes} pass, ${fails} fail)`);
  const failText = await page.locator(".rule.fail").first().innerText();
  check(/[ạảãáàâấầẩẫậăắằẳẵặđêếềểễệôốồổỗộơớờởỡợưứừửữự]/i.test(failText), "the sentences are Vietnamese with diacritics", failText);
  await page.waitForTimeout(800);
  const lotsOnMap = await page.evaluate(() => (window.geoplanOverlays.results || { features: [] }).features.length);
  check(lotsOnMap >= 1, "the lots the site touches are drawn on the map", lotsOnMap);
  await shot(page, "05-check");
  const pdf = await fetch(base + await page.locator("#check-pdf").getAttribute("href"));
  const pdfBytes = Buffer.from(await pdf.arrayBuffer());
  check(pdf.ok && pdfBytes.subarray(0, 4).toString() === "%PDF", "the report downloads as PDF", pdf.status);
  writeFileSync(join(shots, "05-check.pdf"), pdfBytes);

  // A site drawn on the map, corner by corner.
  await page.locator("#check-draw").click();
  const b2 = await canvas.boundingBox();
  const cx = b2.width / 2, cy = b2.height / 2;
  for (const [dx, dy] of [[-60, -40], [60, -40], [60, 40], [-60, 40], [-60, -40]]) await page.mouse.click(b2.x + cx + dx, b2.y + cy + dy);
  await page.waitForTimeout(500);
  const drawnText = await page.locator("#check-site").innerText();
  check(/m²/.test(drawnText) && /(vẽ|drawn)/i.test(drawnText), "a drawn polygon becomes the site, with its area", drawnText);
  await page.locator("#check-use").selectOption("TMD");
  await page.locator("#check-form [name=floors]").fill("");
  await page.locator("#check-run").click();
  await page.waitForFunction(() => document.querySelector("#check-verdict"), null, { timeout: 20000 }).catch(() => {});
  check(await page.locator(".rule").count() >= 3, "the drawn site is checked rule by rule");

  // A KML site from an investor, in WGS 84.
  const kmlRing = ring.map((c) => `${c[0]},${c[1]},0`).join(" ");
  const kml = `<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>Khu đất đề xuất</name><Polygon><outerBoundaryIs><LinearRing><coordinates>${kmlRing}</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark></kml>`;
  await page.locator("#check-file").setInputFiles({ name: "khu-dat.kml", mimeType: "application/vnd.google-earth.kml+xml", buffer: Buffer.from(kml) });
  await page.waitForFunction(() => /khu-dat\.kml/.test(document.querySelector("#check-site")?.textContent || ""), null, { timeout: 5000 }).catch(() => {});
  const kmlText = await page.locator("#check-site").innerText();
  check(kmlText.includes("khu-dat.kml") && kmlText.includes(vi(truth, 1).split(",")[0]), "a KML file becomes the site, with the parcel's area", kmlText);
  // A zipped shapefile in VN-2000 TM-3, made with GDAL: read by the server.
  const shpDir = mkdtempSync(join(tmpdir(), "geoplan-shp-"));
  writeFileSync(join(shpDir, "parcel.geojson"), JSON.stringify(feat));
  execFileSync("ogr2ogr", ["-f", "ESRI Shapefile", "-lco", "ENCODING=UTF-8", "-t_srs", "EPSG:5899", join(shpDir, "khu_dat.shp"), join(shpDir, "parcel.geojson")], { stdio: "ignore" });
  execFileSync("python3", ["-c", "import zipfile,glob,os,sys\nz=zipfile.ZipFile(sys.argv[1],'w',zipfile.ZIP_DEFLATED)\nfor f in glob.glob(os.path.join(sys.argv[2],'khu_dat.*')): z.write(f,os.path.basename(f))\nz.close()", join(shpDir, "khu-dat.zip"), shpDir]);
  await page.locator("#check-file").setInputFiles(join(shpDir, "khu-dat.zip"));
  await page.waitForFunction(() => /khu-dat\.zip/.test(document.querySelector("#check-site")?.textContent || ""), null, { timeout: 10000 }).catch(() => {});
  const shpText = await page.locator("#check-site").innerText();
  check(shpText.includes("EPSG:5899") && shpText.includes(vi(truth, 1).split(",")[0]), "a zipped shapefile in VN-2000 becomes the site, its CRS said", shpText);
  // GeoJSON in VN-2000 eastings/northings.
  const tm3 = await page.evaluate((r) => { const f = proj4("EPSG:4326", "EPSG:5899"); return r.map((c) => f.forward(c)); }, ring);
  await page.locator("#check-file").setInputFiles({ name: "khu-dat-vn2000.geojson", mimeType: "application/geo+json", buffer: Buffer.from(JSON.stringify({ type: "Feature", properties: {}, geometry: { type: "Polygon", coordinates: [tm3] } })) });
  await page.waitForFunction(() => /vn2000\.geojson/.test(document.querySelector("#check-site")?.textContent || ""), null, { timeout: 5000 }).catch(() => {});
  const tmText = await page.locator("#check-site").innerText();
  check(tmText.includes("VN-2000 TM-3") && tmText.includes(vi(truth, 1).split(",")[0]), "a GeoJSON in VN-2000 TM-3 is read as such", tmText);
  await page.locator("#check-run").click();
  await page.waitForFunction(() => document.querySelector("#check-verdict"), null, { timeout: 20000 }).catch(() => {});
  check(await page.locator(".rule").count() >= 3, "a VN-2000 site is checked (sent with its CRS)", await page.locator("#check-out").innerText());
  await page.locator("#check-file").setInputFiles({ name: "hong.geojson", mimeType: "application/geo+json", buffer: Buffer.from("{not json") });
  await page.waitForTimeout(300);
  check((await page.locator("#check-site").getAttribute("class")).includes("error"), "a broken file is refused with its name", await page.locator("#check-site").innerText());

  // ---- 6. Projects ----------------------------------------------------------
  await page.locator("#tab-projects").click();
  await page.waitForSelector("#projects-total", { timeout: 10000 });
  const day = await page.locator("#as-of").inputValue();
  const all = await get(`/projects?as_of=${day}`);
  check((await page.locator("#projects-total").innerText()).includes(vi(all.total, 0)), `the registry lists the ${all.total} projects`);
  const proposed = await get(`/projects?status=proposed&as_of=${day}`);
  await page.locator("#projects-form [name=status]").selectOption("proposed");
  await page.waitForFunction((n) => (document.querySelector("#projects-total")?.textContent || "").startsWith(String(n)), proposed.total, { timeout: 10000 }).catch(() => {});
  check((await page.locator("#projects-list li").count()) === proposed.total, `the stage filter leaves the ${proposed.total} proposed ones`);
  const target = proposed.projects[0];
  await page.locator(`#projects-list li[data-fid="${target.fid}"]`).click();
  await page.waitForSelector("#project-timeline", { timeout: 10000 });
  check((await page.locator("#project-name").innerText()) === target.name, "a click opens the project's detail");
  check((await page.locator("#project-timeline li").count()) >= 7, "the detail shows the stage timeline, done and ahead");
  await page.waitForTimeout(600);
  await shot(page, "06-project");
  await page.locator("#signin-form [name=user]").fill(editorUser);
  await page.locator("#signin-form [name=password]").fill(editorPassword);
  await page.locator("#signin-form button").click();
  await page.waitForSelector("#advance-form", { timeout: 10000 });
  await page.locator("#advance-form [name=to]").selectOption("policy_approved");
  await page.locator("#advance-form [name=date]").fill(day);
  await page.locator("#advance-form button").click();
  await page.waitForSelector("#advance-msg.error", { timeout: 5000 }).catch(() => {});
  check((await page.locator("#advance-msg").innerText().catch(() => "")).length > 0, "a formal step without its decision number is refused with the reason", await page.locator("#project-advance").innerText());
  await page.locator("#advance-form [name=decision]").fill("77/QĐ-UBND");
  await page.locator("#advance-form [name=authority]").fill("UBND thành phố Đà Nẵng");
  await page.locator("#advance-form button").click();
  await page.waitForFunction(() => /Chấp thuận chủ trương/.test(document.querySelector("#project-stage")?.textContent || ""), null, { timeout: 10000 }).catch(() => {});
  check(/Chấp thuận chủ trương/.test(await page.locator("#project-stage").innerText()), "an editor moves the project to policy approval");
  const hist = await get(`/projects/${target.fid}/history`, asEditor);
  const lastStep = hist.history[hist.history.length - 1];
  check(lastStep.to_stage === "policy_approved" && lastStep.decision === "77/QĐ-UBND" && lastStep.user_name === editorUser, "the step is recorded with its decision and editor", JSON.stringify(lastStep));
  const publicStep = (await get(`/projects/${target.fid}/history`)).history.at(-1);
  check(publicStep.decision === "77/QĐ-UBND" && !("user_name" in publicStep), "the public sees the step but not who recorded it", JSON.stringify(publicStep));

  // ---- 7. Statistics --------------------------------------------------------
  await page.locator("#tab-stats").click();
  await page.locator("#stats-after").click();
  await page.waitForFunction(() => document.querySelector("#stats-day")?.textContent === "01/07/2025" && document.querySelector("#stats-table"), null, { timeout: 15000 }).catch(() => {});
  const after = await get("/stats/landuse?level=commune&as_of=2025-07-01");
  check(await page.locator("#stats-table tbody tr").count() === after.units.length, `after the merger the table has the ${after.units.length} new units`);
  const bars = await page.locator("#stats-chart rect").count();
  check(bars >= 3, `the chart draws land use by area (${bars} bars)`);
  await shot(page, "07-stats");
  await page.locator("#stats-before").click();
  await page.waitForFunction(() => document.querySelector("#stats-day")?.textContent === "30/06/2025" && document.querySelector("#stats-table"), null, { timeout: 15000 }).catch(() => {});
  const beforeStats = await get("/stats/landuse?level=commune&as_of=2025-06-30");
  check(await page.locator("#stats-table tbody tr").count() === beforeStats.units.length && beforeStats.units.length !== after.units.length, `before the merger the table has the ${beforeStats.units.length} old communes`);
  await page.locator("#stats-form [name=level]").selectOption("district");
  await page.waitForFunction(() => document.querySelector("#stats-table tbody tr"), null, { timeout: 10000 });
  await page.waitForTimeout(500);
  const districts = await get("/stats/landuse?level=district&as_of=2025-06-30");
  check(await page.locator("#stats-table tbody tr").count() === districts.units.length, `and by old district, ${districts.units.length} rows`);
  const first3 = await page.locator("#stats-table tbody tr").first().getAttribute("data-unit");
  await page.locator("#stats-table tbody tr").first().click();
  await page.waitForSelector("#stats-all", { timeout: 10000 }).catch(() => {});
  check((await page.locator("#stats-out h3").first().innerText()) === districts.units.find((u) => u.unit_code === first3).unit_name, "a row shows that unit's land use in the chart");
  for (const [id, type, magic] of [["#stats-csv", "text/csv", "\ufeff"], ["#stats-xlsx", "spreadsheetml", "PK"]]) {
    const r = await fetch(base + await page.locator(id).getAttribute("href"));
    const b = Buffer.from(await r.arrayBuffer());
    const head = type === "text/csv" ? b.toString("utf8").slice(0, 1) : b.subarray(0, 2).toString();
    check(r.ok && r.headers.get("content-type").includes(type) && head === magic, `${id.slice(7).toUpperCase()} downloads`, r.headers.get("content-type"));
  }

  // ---- 8. English ---------------------------------------------------------
  await page.locator("#lang").click();
  check((await page.locator("#tab-stats").innerText()) === "Statistics" && (await page.locator("html").getAttribute("lang")) === "en", "the English toggle relabels the page");
  await page.waitForTimeout(600);
  check((await page.locator("#stats-out").innerText()).includes("Parcels"), "the statistics redraw in English");
  await page.locator("#tab-card").click();
  await page.goto(`${base}/?parcel=${P.fid}&lang=en`, { waitUntil: "domcontentloaded" });
  await page.waitForSelector("#card .card-key", { timeout: 15000 });
  await idle(page);
  const en = await page.locator("#card").innerText();
  check(en.includes("Legal area") && en.includes("Plans") && en.includes(P.commune.name), "the card reads in English, names kept with diacritics", en.slice(0, 200));
  await shot(page, "08-english");

  // ---- Every tab shows whole (the longer English labels too) ---------------
  const cutTabs = (p) => p.evaluate(() => {
    const panel = document.getElementById("panel").getBoundingClientRect();
    return [...document.querySelectorAll("#tabs [role=tab]")].filter((b) => {
      const r = b.getBoundingClientRect();
      return r.left < panel.left || r.right > panel.right + 0.5 || b.scrollWidth > b.clientWidth;
    }).map((b) => b.textContent);
  });
  const cut = await cutTabs(page);
  check(cut.length === 0, "every tab shows whole beside the map at 1366×768", cut.join(", "));

  // ---- Keyboard: the tabs follow the arrow keys ----------------------------
  await page.locator("#tab-card").focus();
  await page.keyboard.press("ArrowRight");
  check(await page.locator("#tab-sites").getAttribute("aria-selected") === "true", "arrow keys move along the tabs");

  // ---- A phone -------------------------------------------------------------
  const phone = await newPage({ width: 390, height: 844 });
  await phone.goto(`${base}/?parcel=${P.fid}`);
  await phone.waitForSelector("#card .card-key", { timeout: 15000 });
  await idle(phone);
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  const mapBox = await phone.locator("#map").boundingBox();
  const panelBox = await phone.locator("#panel").boundingBox();
  check(overflow <= 0 && mapBox.height > 250 && panelBox.height > 250 && panelBox.width <= 390, "on a phone the map and the card both fit, nothing scrolls sideways", JSON.stringify({ overflow, mapBox, panelBox }));
  const phoneCut = await cutTabs(phone);
  check(phoneCut.length === 0, "every tab shows whole on a phone", phoneCut.join(", "));
  const phoneZoom = await phone.evaluate(() => window.geoplanMap.getZoom());
  check(phoneZoom >= 16, `a shared link without a map position zooms to its parcel (z${phoneZoom.toFixed(1)})`);
  await shot(phone, "09-phone");
  await phone.close();

  check(external.length === 0, "nothing is fetched from outside the server", external.join(" "));
  check(errors.length === 0, "no script errors", errors.join(" | "));
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
