// Measures what the home page makes a browser download from us — WASM + JS + CSS — compressed
// with brotli (quality 11, as a static pre-compression would), and checks it against the budget.
// Usage: node scripts/page-weight.mjs http://127.0.0.1:PORT [budget-in-KB, default 250]
import { brotliCompressSync, constants } from "node:zlib";

const base = process.argv[2];
const budgetKb = Number(process.argv[3] ?? 250);
if (!base) {
  console.error("usage: node scripts/page-weight.mjs <base-url> [budget-kb]");
  process.exit(2);
}

const html = await (await fetch(`${base}/`)).text();
// Every /pkg/ asset the page references (stylesheet, module preload, wasm preload, script import).
const assets = [...new Set([...html.matchAll(/["'`(]\/?(pkg\/[A-Za-z0-9_.\-/]+\.(?:js|wasm|css))/g)].map((m) => `/${m[1]}`))];
if (!assets.some((a) => a.endsWith(".wasm")) || !assets.some((a) => a.endsWith(".css"))) {
  console.error(`page-weight: the home page does not reference the WASM and CSS (found: ${assets.join(", ") || "nothing"})`);
  process.exit(1);
}

// Scripts imported statically by those scripts load with the page too (the WASM-split loader);
// chunks imported dynamically load only when their page is shown, so they are not counted.
for (let i = 0; i < assets.length; i++) {
  if (!assets[i].endsWith(".js")) continue;
  const source = await (await fetch(`${base}${assets[i]}`)).text();
  const dir = assets[i].slice(0, assets[i].lastIndexOf("/") + 1);
  for (const m of source.matchAll(/(?:^|[;\s])import\s*(?:[^'"()]*?\sfrom\s*)?["'](\.\/[^"']+\.js)["']/g)) {
    const path = dir + m[1].slice(2);
    if (!assets.includes(path)) assets.push(path);
  }
}

let total = 0;
const rows = [];
for (const path of assets) {
  const response = await fetch(`${base}${path}`, { headers: { "accept-encoding": "identity" } });
  if (!response.ok) {
    console.error(`page-weight: ${path} answered ${response.status}`);
    process.exit(1);
  }
  const raw = Buffer.from(await response.arrayBuffer());
  const br = brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  total += br;
  rows.push(`${path.padEnd(44)} ${String((raw.length / 1024).toFixed(1)).padStart(8)} KB raw ${String((br / 1024).toFixed(1)).padStart(8)} KB brotli`);
}
console.log(rows.join("\n"));
const totalKb = total / 1024;
console.log(`home page total: ${totalKb.toFixed(1)} KB brotli (budget ${budgetKb} KB)`);
if (totalKb > budgetKb) {
  console.error(`page-weight: over budget by ${(totalKb - budgetKb).toFixed(1)} KB — split the WASM by route or slim it`);
  process.exit(1);
}
