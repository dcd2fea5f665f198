#!/usr/bin/env node
// Browser test runner: every spec in specs/*.spec.mjs, in each requested engine, through
// W3C WebDriver (WebdriverIO `remote()` against a driver this runner starts itself).
//
// Usage:
//   node run.mjs --base-url http://127.0.0.1:PORT
//                [--engines chromium,firefox,webkit,chromium-nojs,firefox-nojs]
//                [--grep TEXT]        (only the specs whose name contains TEXT)
//                [--specs DIR]        (another folder of *.spec.mjs, e.g. ../bench for benchmarks)
//
// The app server must already be running at the base URL. A spec module exports by default an
// array of specs:
//   {
//     name: string,
//     run: async ({ browser, baseUrl, engine, js }) => {...},  // throws to fail
//     timeout?: number,                                      // ms, default 60 s
//     skip?: ({ engine, js }) => false | string,             // a string: skipped, for that reason
//   }
// `js` is false in the "-nojs" engines. Each spec gets a fresh browser session; a failing spec
// leaves a screenshot in results/<engine>-<spec>.png, and each driver's output is kept in
// results/<engine>-driver.log. Exits non-zero if any spec failed or any requested engine could
// not run.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { remote } from 'webdriverio';

import { ENGINES, resolveBinaries, startDriver } from './lib/engines.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SPECS_DIR = path.join(HERE, 'specs');
const RESULTS_DIR = path.join(HERE, 'results');
const DEFAULT_SPEC_TIMEOUT = 60_000;

function usage(message) {
  if (message) console.error(`error: ${message}\n`);
  console.error(
    'usage: node run.mjs --base-url http://127.0.0.1:PORT ' +
      `[--engines ${Object.keys(ENGINES).join(',')}] [--grep TEXT] [--specs DIR]`,
  );
  process.exit(2);
}

function parseOptions() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        'base-url': { type: 'string' },
        engines: { type: 'string', default: Object.keys(ENGINES).join(',') },
        grep: { type: 'string' },
        specs: { type: 'string', default: SPECS_DIR },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    usage(error.message);
  }
  if (values.help) usage();
  if (!values['base-url']) usage('--base-url is required');
  const baseUrl = values['base-url'].replace(/\/+$/, '');
  const engines = values.engines.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = engines.filter((name) => !ENGINES[name]);
  if (unknown.length > 0) usage(`unknown engine(s): ${unknown.join(', ')}`);
  if (engines.length === 0) usage('no engine given');
  return { baseUrl, engines, grep: values.grep, specsDir: path.resolve(values.specs) };
}

async function loadSpecs(grep, specsDir) {
  const files = fs
    .readdirSync(specsDir)
    .filter((file) => file.endsWith('.spec.mjs'))
    .sort();
  const specs = [];
  for (const file of files) {
    const module = await import(pathToFileURL(path.join(specsDir, file)).href);
    if (!Array.isArray(module.default)) throw new Error(`${file}: the default export must be an array of specs`);
    for (const spec of module.default) {
      if (typeof spec.name !== 'string' || typeof spec.run !== 'function') {
        throw new Error(`${file}: each spec needs a string "name" and a function "run"`);
      }
      if (grep && !spec.name.includes(grep)) continue;
      specs.push({ ...spec, file });
    }
  }
  return specs;
}

const slug = (text) =>
  text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 80);

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function saveScreenshot(browser, file) {
  try {
    // Let the page paint (WebKit otherwise may capture a stale frame). Bounded, because with the
    // page's JavaScript off animation frames may never come.
    await withTimeout(
      browser.execute(
        () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve(true)))),
      ),
      2000,
      'waiting for two animation frames',
    ).catch(() => {});
    await browser.saveScreenshot(file);
    return file;
  } catch (error) {
    console.log(`      (no screenshot: ${firstLine(error.message)})`);
    return null;
  }
}

const firstLine = (text) => String(text).split('\n')[0];

function indent(text, prefix = '      ') {
  return String(text)
    .split('\n')
    .map((line) => prefix + line)
    .join('\n');
}

// Per-session clean-ups (temporary profiles) not run yet, and the driver currently running, so
// that an interruption still removes and stops them.
const pendingCleanups = new Set();
let activeDriver = null;
let interrupted = false;

function runCleanup(cleanup) {
  pendingCleanups.delete(cleanup);
  try {
    cleanup();
  } catch {
    // a leftover temporary profile is not worth failing for
  }
}

/** A failure of the browser itself (its page process died), not of the app under test. */
const BROWSER_CRASH = /page crash|invalid session id|session deleted/i;

/**
 * Runs one spec in a fresh session. Returns true if it passed, false if it failed, and
 * 'crashed' when the browser's own page process died under it.
 */
async function runSpec(engineName, engine, driverPort, spec, baseUrl) {
  const started = Date.now();
  const { capabilities, cleanup } = engine.capabilities();
  pendingCleanups.add(cleanup);
  let browser = null;
  try {
    browser = await remote({
      hostname: '127.0.0.1',
      port: driverPort,
      path: '/',
      logLevel: 'error',
      connectionRetryCount: 1,
      capabilities,
    });
    await withTimeout(
      spec.run({ browser, baseUrl, engine: engineName, js: engine.js }),
      spec.timeout ?? DEFAULT_SPEC_TIMEOUT,
      'the spec',
    );
    console.log(`  ✓ ${spec.name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return true;
  } catch (error) {
    // No session at all (the driver did not answer `POST /session`, seen with WebKitWebDriver
    // on a saturated machine): the spec never ran, so it is retried like a crashed page.
    if (!browser) {
      console.log(`  ↻ ${spec.name}: no browser session could be started (${firstLine(String(error?.message ?? error))})`);
      return 'crashed';
    }
    if (BROWSER_CRASH.test(String(error?.message ?? error))) {
      console.log(`  ↻ ${spec.name}: the browser's page process crashed (${firstLine(String(error?.message ?? error))})`);
      return 'crashed';
    }
    console.log(`  ✗ ${spec.name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    console.log(indent(error?.stack && !String(error.message).includes('\n') ? error.stack : error?.message ?? error));
    if (browser) {
      const file = await saveScreenshot(browser, path.join(RESULTS_DIR, `${engineName}-${slug(spec.name)}.png`));
      if (file) console.log(`      screenshot: ${path.relative(process.cwd(), file)}`);
    }
    return false;
  } finally {
    if (browser) await browser.deleteSession().catch(() => {});
    runCleanup(cleanup);
  }
}

async function runEngine(engineName, specs, baseUrl) {
  const engine = ENGINES[engineName];
  const result = { engine: engineName, passed: 0, failed: 0, skipped: 0, count: specs.length, error: null };
  console.log(`\n${engineName}`);

  // Forget the screenshots of an earlier run of this engine.
  for (const file of fs.readdirSync(RESULTS_DIR)) {
    if (file.startsWith(`${engineName}-`) && file.endsWith('.png')) fs.rmSync(path.join(RESULTS_DIR, file));
  }

  let driver;
  try {
    const binaries = resolveBinaries(engine);
    driver = await startDriver(engine, binaries, path.join(RESULTS_DIR, `${engineName}-driver.log`));
    activeDriver = driver;
  } catch (error) {
    result.error = error.message;
    console.log(`  ✗ could not run ${engineName}: ${error.message}`);
    return result;
  }
  try {
    for (const spec of specs) {
      if (interrupted) break;
      const skipReason = spec.skip?.({ engine: engineName, js: engine.js });
      if (skipReason) {
        console.log(`  - ${spec.name} (skipped: ${skipReason})`);
        result.skipped += 1;
        continue;
      }
      let outcome = await runSpec(engineName, engine, driver.port, spec, baseUrl);
      if (outcome === 'crashed') {
        // Once, in a new session: a second crash counts as a failure.
        console.log('    running it again in a new browser session');
        outcome = await runSpec(engineName, engine, driver.port, spec, baseUrl);
        result.retried = (result.retried ?? 0) + 1;
      }
      if (outcome === true) result.passed += 1;
      else result.failed += 1;
    }
  } finally {
    await driver.stop();
    activeDriver = null;
  }
  return result;
}

function printSummary(results) {
  const header = ['engine', 'passed', 'failed', 'skipped', 'count'];
  const rows = results.map((r) => [r.engine, r.passed, r.failed, r.skipped, r.count].map(String));
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells) =>
    cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ');
  console.log('\nSummary');
  console.log(line(header));
  console.log(line(widths.map((width) => '-'.repeat(width))));
  results.forEach((r, index) => {
    const note = r.error ? `  NOT RUN: ${firstLine(r.error)}` : r.retried ? `  (${r.retried} spec(s) rerun after a browser crash)` : '';
    console.log(line(rows[index]) + note);
  });
}

async function main() {
  const { baseUrl, engines, grep, specsDir } = parseOptions();
  fs.mkdirSync(RESULTS_DIR, { recursive: true });

  // Fail early and clearly if nobody serves the app.
  try {
    await fetch(baseUrl, { signal: AbortSignal.timeout(5000) });
  } catch (error) {
    console.error(`error: the app does not answer at ${baseUrl} (${error.cause?.code ?? error.message}); start it first`);
    process.exit(1);
  }

  const specs = await loadSpecs(grep, specsDir);
  if (specs.length === 0) {
    console.error(grep ? `error: no spec name contains "${grep}"` : 'error: no spec found');
    process.exit(1);
  }
  console.log(`${specs.length} spec(s), engines: ${engines.join(', ')}, app at ${baseUrl}`);

  const results = [];
  for (const engineName of engines) results.push(await runEngine(engineName, specs, baseUrl));

  printSummary(results);
  const failed = results.some((r) => r.error || r.failed > 0);
  process.exitCode = failed ? 1 : 0;
}

async function stopAndExit(code) {
  if (activeDriver) await activeDriver.stop().catch(() => {});
  for (const cleanup of [...pendingCleanups]) runCleanup(cleanup);
  process.exit(code);
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${signal}: stopping the driver`);
    stopAndExit(130);
  });
}

// A spec that timed out is recorded as failed and its session closed; a WebDriver command it had
// left pending may still reject later. That must not bring down the run of the other engines.
process.on('unhandledRejection', (error) => {
  console.warn(`  (a command of an abandoned session failed late: ${error?.message ?? error})`);
});

main().catch((error) => {
  console.error(error);
  stopAndExit(1);
});
