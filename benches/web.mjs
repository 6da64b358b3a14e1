// The planning page's speed, measured in Debian's Chromium against a
// running geoplan (release build, the sample): first map paint from a cold
// browser cache (a new browser context each run), and the search box's
// answer to each keystroke (from the input event to the suggestions on
// screen), plus GET /search alone over the same prefixes.
//
//   node benches/web.mjs http://127.0.0.1:8080 [runs]
//   node benches/web.mjs http://127.0.0.1:8091,http://127.0.0.1:8092 [runs]
//
// With several servers (comma-separated, e.g. the same binary serving an
// old and a new web dir), the cold runs alternate between them, so that
// each sees the same machine load, and each gets its own line; the search
// box is then measured on the first only. Each line also gives the median
// time line of a cold load (ms since navigation): the page's HTML in, DOM
// ready, the style and the TileJSON in, the first tile asked for, the last
// tile in before the first paint, and how many tiles and bytes that was.
// Each line also gives the CPU time (user + system, all cores) the browser's
// processes spent from navigation to the first paint, and with
// `SERVER_PIDS=pid[,pid…]` (one per server, in order) the server's too: on
// this shared machine the wall-clock times move with the others' builds,
// the CPU time much less. Before each load the bench waits until the new
// context's own start-up is over (`SETTLE=0`: it loads at once, as the bench
// first did). `SEARCH=0` skips the search box.
import { chromium } from "../web/node_modules/playwright-core/index.mjs";
import { readdirSync, readFileSync } from "node:fs";

const bases = process.argv[2].split(",");
const runs = Number(process.argv[3] || 5);
const pct = (a, p) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };
const med = (a) => (a.length ? pct(a, 50) : NaN);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist", "--disable-background-networking"],
});

const serverPids = (process.env.SERVER_PIDS || "").split(",").filter(Boolean);
/** CPU ms (user + system) so far of every process, by pid, with its parent. */
function cpuTable() {
  const out = {};
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, "utf8");
      const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
      out[d] = { ppid: f[1], ms: (Number(f[11]) + Number(f[12])) * 10 }; // USER_HZ = 100
    } catch (_) { /* gone */ }
  }
  return out;
}
/** CPU ms the processes under `roots` (and their descendants) spent from `a` to `b`. */
function cpuBetween(a, b, roots) {
  const inTree = (pid) => { for (let p = pid, n = 0; p && n < 50; p = b[p]?.ppid, n++) if (roots.includes(p)) return true; return false; };
  let ms = 0;
  for (const [pid, x] of Object.entries(b)) if (pid !== browserRoot && inTree(pid)) ms += x.ms - (a[pid]?.ms ?? 0);
  return ms;
}
// The browser: every process under this one (node itself left out).
const browserRoot = String(process.pid);

/** Waits (≤ 5 s) until the browser's processes are idle. A new context is a
 * new window, for which Chromium starts renderers of its own (the omnibox
 * popup's WebUI, ~1 s of CPU in Chromium 156): the page's load should not
 * be charged for them, as a user's browser started before the page is not. */
async function settle() {
  let last = cpuTable();
  for (let i = 0, quiet = 0; i < 50 && quiet < 2; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const now = cpuTable();
    quiet = cpuBetween(last, now, [browserRoot]) <= 20 ? quiet + 1 : 0;
    last = now;
  }
}

/** One cold load: a fresh context, the map at z12 over Đà Nẵng. */
async function coldRun(base, serverPid) {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await ctx.newPage();
  if (process.env.SETTLE !== "0") await settle();
  // CPU of the browser (and server) from navigation to MapLibre's "load".
  let cpuStart = null, cpuPaint = null;
  await page.exposeFunction("benchPainted", () => { cpuPaint = cpuTable(); });
  await page.addInitScript(() => {
    let v;
    Object.defineProperty(window, "geoplanLoadedAt", { configurable: true, get: () => v, set: (x) => { v = x; window.benchPainted(); } });
  });
  // Every request the page makes, workers' included (Resource Timing
  // does not see MapLibre's tile fetches from its workers).
  const reqs = [];
  page.on("requestfinished", async (r) => {
    const t = r.timing();
    const size = await r.sizes().then((s) => s.responseBodySize + s.responseHeadersSize).catch(() => 0);
    reqs.push({ url: r.url(), start: t.startTime, end: t.startTime + t.responseEnd, size });
  });
  cpuStart = cpuTable();
  await page.goto(`${base}/#12/16.05/108.2`);
  // MapLibre's "load": style, sprites, glyphs and the first tiles drawn.
  const paint = await (await page.waitForFunction(() => window.geoplanLoadedAt, null, { timeout: 60000 })).jsonValue();
  const idle = await (await page.waitForFunction(() => window.geoplanMap.loaded() && window.geoplanMap.areTilesLoaded() && performance.now(), null, { timeout: 60000 })).jsonValue();
  const nav = await page.evaluate(() => {
    const n = performance.getEntriesByType("navigation")[0];
    return { origin: performance.timeOrigin, html: n.responseEnd, dcl: n.domContentLoadedEventEnd };
  });
  await ctx.close();
  const cpu = cpuBetween(cpuStart, cpuPaint, [browserRoot]);
  const cpuServer = serverPid ? cpuBetween(cpuStart, cpuPaint, [serverPid]) : NaN;
  const rel = (t) => t - nav.origin;
  const find = (re) => reqs.filter((r) => re.test(r.url));
  const style = find(/\/styles\//)[0], tilejson = find(/\/tiles\/[^/]+\.json/)[0];
  const tiles = find(/\/tiles\/.*\.(mvt|pbf)$/).filter((r) => rel(r.start) <= paint);
  const before = tiles.filter((r) => rel(r.end) <= paint);
  return {
    paint, idle, cpu, cpuServer, html: nav.html, dcl: nav.dcl,
    style: style ? rel(style.end) : NaN,
    tilejson: tilejson ? rel(tilejson.end) : NaN,
    tile0: tiles.length ? Math.min(...tiles.map((r) => rel(r.start))) : NaN,
    tileN: before.length ? Math.max(...before.map((r) => rel(r.end))) : NaN,
    ntiles: before.length,
    kb: reqs.filter((r) => rel(r.end) <= paint).reduce((s, r) => s + r.size, 0) / 1024,
  };
}

const results = bases.map(() => []);
for (let i = 0; i < runs; i++) {
  for (let b = 0; b < bases.length; b++) results[b].push(await coldRun(bases[b], serverPids[b]));
}
for (let b = 0; b < bases.length; b++) {
  const r = results[b];
  const col = (k) => r.map((x) => x[k]).filter((v) => !Number.isNaN(v));
  const paint = col("paint"), idle = col("idle");
  console.log(`${bases[b]}: first map paint, cold cache, n=${runs}: median ${med(paint).toFixed(0)} ms, min ${Math.min(...paint).toFixed(0)}, max ${Math.max(...paint).toFixed(0)} ms; all tiles in: median ${med(idle).toFixed(0)} ms, max ${Math.max(...idle).toFixed(0)} ms`);
  console.log(`  median time line (ms): html ${med(col("html")).toFixed(0)}, DOM ready ${med(col("dcl")).toFixed(0)}, style ${med(col("style")).toFixed(0)}, TileJSON ${med(col("tilejson")).toFixed(0)}, first tile asked ${med(col("tile0")).toFixed(0)}, last tile in ${med(col("tileN")).toFixed(0)} (${med(col("ntiles"))} tiles), paint ${med(paint).toFixed(0)}; ${med(col("kb")).toFixed(0)} KiB over the wire by then`);
  const cpu = col("cpu"), cpuServer = col("cpuServer");
  console.log(`  CPU to first paint: browser median ${med(cpu).toFixed(0)} ms (${Math.min(...cpu)}–${Math.max(...cpu)})` + (cpuServer.length ? `, server median ${med(cpuServer).toFixed(0)} ms (${Math.min(...cpuServer)}–${Math.max(...cpuServer)})` : ""));
  if (process.env.VERBOSE) for (const x of r) console.log("   ", JSON.stringify(Object.fromEntries(Object.entries(x).map(([k, v]) => [k, Math.round(v)]))));
}
if (process.env.SEARCH === "0") { await browser.close(); process.exit(0); }
const base = bases[0];

const queries = ["tờ 1 thửa 345 Minh An", "QHPK-KCN-TT", "phuong hai chau", "Sân bay Chu Lai", "KCN Tam Thăng", "2652/QĐ-UBND"];
const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 } });
const page = await ctx.newPage();
await page.goto(`${base}/`);
await page.waitForFunction(() => window.geoplanMap && window.geoplanMap.loaded());
const keys = [];
for (const q of queries) {
  await page.locator("#search-input").fill("");
  for (let n = 1; n <= q.length; n++) {
    // Time from the keystroke to the suggestions for exactly this prefix.
    const ms = await page.evaluate(async (prefix) => {
      const input = document.getElementById("search-input");
      const list = document.getElementById("search-list");
      const t = performance.now();
      input.value = prefix;
      input.dispatchEvent(new Event("input"));
      await new Promise((resolve) => {
        const done = () => { obs.disconnect(); resolve(); };
        const obs = new MutationObserver(() => done());
        obs.observe(list, { childList: true });
        setTimeout(done, 3000);
      });
      return performance.now() - t;
    }, q.slice(0, n));
    keys.push(ms);
  }
}
console.log(`suggestions per keystroke (incl. the page's 60 ms debounce), n=${keys.length}: p50 ${pct(keys, 50).toFixed(0)} ms, p95 ${pct(keys, 95).toFixed(0)} ms, max ${Math.max(...keys).toFixed(0)} ms`);
const server = [];
for (const q of queries) for (let n = 1; n <= q.length; n++) {
  const t = performance.now();
  await (await fetch(`${base}/search?q=${encodeURIComponent(q.slice(0, n))}`)).json();
  server.push(performance.now() - t);
}
console.log(`GET /search alone over the same prefixes, n=${server.length}: p50 ${pct(server, 50).toFixed(1)} ms, p95 ${pct(server, 95).toFixed(1)} ms, max ${Math.max(...server).toFixed(1)} ms`);
await browser.close();
