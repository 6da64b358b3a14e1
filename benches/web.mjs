// The planning page's speed, measured in Debian's Chromium against a
// running geoplan (release build, the sample): first map paint from a cold
// browser cache (a new browser context each run), and the search box's
// answer to each keystroke (from the input event to the suggestions on
// screen), plus GET /search alone over the same prefixes.
//
//   node benches/web.mjs http://127.0.0.1:8080 [runs]
import { chromium } from "../web/node_modules/playwright-core/index.mjs";

const base = process.argv[2];
const runs = Number(process.argv[3] || 5);
const pct = (a, p) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist", "--disable-background-networking"],
});
const paint = [], idle = [];
for (let i = 0; i < runs; i++) {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await ctx.newPage();
  await page.goto(`${base}/#12/16.05/108.2`);
  // MapLibre's "load": style, sprites, glyphs and the first tiles drawn.
  paint.push(await (await page.waitForFunction(() => window.geoplanLoadedAt, null, { timeout: 60000 })).jsonValue());
  idle.push(await (await page.waitForFunction(() => window.geoplanMap.loaded() && window.geoplanMap.areTilesLoaded() && performance.now(), null, { timeout: 60000 })).jsonValue());
  await ctx.close();
}
console.log(`first map paint, cold cache, n=${runs}: median ${pct(paint, 50).toFixed(0)} ms, max ${Math.max(...paint).toFixed(0)} ms; all tiles in: median ${pct(idle, 50).toFixed(0)} ms, max ${Math.max(...idle).toFixed(0)} ms`);

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
