// Measures what the home page makes a browser download from us — WASM + JS + CSS — as the server
// sends it to a browser that accepts brotli (the bytes on the wire), and checks it against the
// budget; and that each of these files is sent precompressed with a year-long immutable cache.
// Usage: node scripts/page-weight.mjs http://127.0.0.1:PORT [budget-in-KB, default 250]
import { get } from "node:http";

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

/** The bytes the server sends for `path` when the browser accepts brotli (no decompression). */
function onTheWire(path) {
  return new Promise((resolve, reject) => {
    get(`${base}${path}`, { headers: { "accept-encoding": "br" } }, (response) => {
      let bytes = 0;
      response.on("data", (chunk) => (bytes += chunk.length));
      response.on("end", () => resolve({ status: response.statusCode, headers: response.headers, bytes }));
      response.on("error", reject);
    }).on("error", reject);
  });
}

let total = 0;
let failed = false;
const rows = [];
for (const path of assets) {
  const sent = await onTheWire(path);
  if (sent.status !== 200) {
    console.error(`page-weight: ${path} answered ${sent.status}`);
    process.exit(1);
  }
  // Sent as the build compressed it (a Content-Length: a per-request compression streams
  // without one), named by its content and kept by browsers for a year.
  const problems = [];
  if (sent.headers["content-encoding"] !== "br") problems.push("not sent in brotli");
  if (sent.headers["content-length"] === undefined) problems.push("compressed per request, not at build time");
  if (!/immutable/.test(sent.headers["cache-control"] ?? "")) problems.push(`Cache-Control "${sent.headers["cache-control"] ?? ""}", not immutable`);
  for (const problem of problems) console.error(`page-weight: ${path}: ${problem}`);
  failed ||= problems.length > 0;
  total += sent.bytes;
  rows.push(`${path.padEnd(56)} ${String((sent.bytes / 1024).toFixed(1)).padStart(8)} KB sent (${sent.headers["content-encoding"] ?? "identity"})`);
}
const page = await onTheWire("/");
console.log(rows.join("\n"));
const totalKb = total / 1024;
console.log(`home page: ${totalKb.toFixed(1)} KB of WASM, JS and CSS on the wire (budget ${budgetKb} KB), plus ${(page.bytes / 1024).toFixed(1)} KB of HTML (${page.headers["content-encoding"] ?? "identity"})`);
if (totalKb > budgetKb) {
  console.error(`page-weight: over budget by ${(totalKb - budgetKb).toFixed(1)} KB — split the WASM by route or slim it`);
  process.exit(1);
}
if (failed) process.exit(1);
