// Drives the map page in headless Chromium (Debian's package) with
// Playwright and checks what a planner sees: the page loads, vector tiles
// arrive, the canvas shows land-use colours of the planning style, the
// legend lists them, the layer switcher hides a layer, and a click on a
// parcel shows its attributes (Vietnamese text intact) in the panel.
//
//   node web/test/map.mjs http://127.0.0.1:PORT [screenshot.png]
//
// Prints one line per check and "N passed, M failed"; exits 1 on failure.
import { chromium } from "playwright-core";

const base = process.argv[2];
const shot = process.argv[3];
if (!base) {
  console.error("usage: node web/test/map.mjs BASE_URL [screenshot.png]");
  process.exit(2);
}
let passed = 0, failed = 0;
function check(ok, what, detail = "") {
  if (ok) { passed++; console.log(`ok   ${what}`); }
  else { failed++; console.log(`FAIL ${what} ${detail}`); }
}

const hex = (h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
const style = await (await fetch(`${base}/styles/planning.json`)).json();
const legend = style.metadata["geoplan:legend"].landuse;
const bg = hex("#efeadf");
// Parcel fills are drawn at 0.9 opacity over the province fill.
const landuseColours = Object.fromEntries(Object.entries(legend).map(([code, e]) => {
  const c = hex(e.colour);
  return [code, c.map((v, i) => Math.round(0.9 * v + 0.1 * bg[i]))];
}));

// A parcel to look at: one of the sample's urban lots, with its attributes.
const page1 = await (await fetch(`${base}/layers/parcels/features?land_use_code=ODT&limit=1&offset=40`)).json();
const parcel = page1.features[0];
const ring = parcel.geometry.coordinates[0];
const centre = ring.slice(0, -1).reduce((a, c) => [a[0] + c[0] / (ring.length - 1), a[1] + c[1] / (ring.length - 1)], [0, 0]);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text() + " " + JSON.stringify(m.location())); });
  const tiles = [];
  page.on("response", (r) => { if (r.url().includes("/tiles/") && r.url().endsWith(".mvt")) tiles.push(r.status()); });
  const external = [];
  page.on("request", (r) => { if (!r.url().startsWith(base) && !r.url().startsWith("data:") && !r.url().startsWith("blob:")) external.push(r.url()); });

  await page.goto(`${base}/#17/${centre[1]}/${centre[0]}`, { waitUntil: "domcontentloaded" });
  await page.waitForFunction(() => window.geoplanMap && window.geoplanMap.loaded() && window.geoplanMap.areTilesLoaded(), null, { timeout: 30000 });
  await page.waitForTimeout(500);
  check(errors.length === 0, "the page loads without script errors", errors.join(" | "));
  check(tiles.filter((s) => s === 200).length > 0, "vector tiles arrive", JSON.stringify(tiles));
  check(external.length === 0, "nothing is fetched from outside the server", external.join(" "));

  // Count canvas pixels that carry a land-use colour of the style.
  const countColours = async () => {
    const png = (await page.locator("#map canvas").screenshot()).toString("base64");
    return page.evaluate(async ({ png, colours }) => {
      const img = new Image();
      img.src = "data:image/png;base64," + png;
      await img.decode();
      const c = document.createElement("canvas");
      c.width = img.width; c.height = img.height;
      const ctx = c.getContext("2d");
      ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      const hits = {};
      let total = 0;
      for (let i = 0; i < d.length; i += 4) {
        total++;
        for (const [code, [r, g, b]] of Object.entries(colours)) {
          if (Math.abs(d[i] - r) + Math.abs(d[i + 1] - g) + Math.abs(d[i + 2] - b) <= 12) { hits[code] = (hits[code] || 0) + 1; break; }
        }
      }
      return { hits, total };
    }, { png, colours: landuseColours });
  };
  const { hits, total } = await countColours();
  const covered = Object.values(hits).reduce((a, b) => a + b, 0) / total;
  check(covered > 0.05, `the canvas shows land-use colours (${(100 * covered).toFixed(1)}% of pixels)`, JSON.stringify(hits));
  check((hits["ODT"] || 0) > 0, "urban residential land (ODT) is drawn in its colour", JSON.stringify(hits));

  await page.locator("#tab-layers").click();
  const legendText = await page.locator("#legend").innerText();
  check(legendText.includes("ODT") && legendText.includes(legend["ODT"].name), "the legend lists ODT with its Vietnamese name", legendText.slice(0, 200));

  // Click the parcel: its planning card opens, read from /planning.
  const box = await page.locator("#map canvas").boundingBox();
  const mid = { x: box.width / 2, y: box.height / 2 };
  await page.locator("#map canvas").click({ position: mid });
  await page.waitForSelector(`#card .card-key[data-fid]`, { timeout: 10000 }).catch(() => {});
  const info = await page.locator("#card").innerText();
  const fid = await page.locator("#card .card-key").getAttribute("data-fid").catch(() => null);
  check(fid === String(parcel.id), `a click on the map centre identifies parcel ${parcel.id}`, `got ${fid}: ${info.slice(0, 120)}`);
  check(info.includes(parcel.properties.address), "the card shows the parcel's address with its diacritics", info.slice(0, 300));
  const legalVi = Number(parcel.properties.legal_area).toLocaleString("vi-VN", { maximumFractionDigits: 1 });
  check(info.includes(`${legalVi} m²`), `the card shows the legal area (${legalVi} m²)`, info.slice(0, 300));

  if (shot) await page.screenshot({ path: shot });

  // The layer switcher hides parcels: their colours leave the canvas.
  await page.locator("#tab-layers").click();
  await page.locator("#layer-parcels-fill").uncheck();
  await page.waitForTimeout(800);
  const after = await countColours();
  const left = Object.values(after.hits).reduce((a, b) => a + b, 0) / after.total;
  check(left < covered / 5, `hiding parcels removes their colours (${(100 * left).toFixed(1)}% left)`);

  // At z14 parcels come merged by land use (no ids in the tile): a click
  // still finds the parcel under it through the feature API.
  await page.locator("#layer-parcels-fill").check();
  await page.evaluate(([lon, lat]) => window.geoplanMap.jumpTo({ center: [lon, lat], zoom: 14.5 }), centre);
  await page.waitForFunction(() => window.geoplanMap.loaded() && window.geoplanMap.areTilesLoaded(), null, { timeout: 30000 });
  await page.waitForTimeout(300);
  await page.locator("#map canvas").click({ position: mid });
  await page.waitForFunction((id) => document.querySelector("#card .card-key")?.getAttribute("data-fid") === id, String(parcel.id), { timeout: 10000 }).catch(() => {});
  const fid14 = await page.locator("#card .card-key").getAttribute("data-fid").catch(() => null);
  check(fid14 === String(parcel.id), `at z14.5 a click on the merged parcels still identifies parcel ${parcel.id}`, `got ${fid14}`);
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
