// What a first visit to the heaviest page of each role downloads, as the server sends it
// (issue 17): the beneficiary's project page and the advisors' dashboard, beside the home page
// that scripts/page-weight.mjs checks against its budget. The figures are Resource Timing's
// `encodedBodySize` (the bodies' bytes on the wire, brotli here) in a browser session with an
// empty cache; they are printed and written to results/page-weight.json for the README.
// Chromium only: the figures are the server's, not the engine's.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { beneficiaryFromNode, isHydrated, staffFromEnv, HYDRATION_TIMEOUT } from '../lib/app.mjs';
import { waitFor } from '../lib/wait.mjs';

const RESULTS = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'results', 'page-weight.json');

/** Opens `pathname` with the session `cookie` in a browser that has loaded nothing of ours, waits
 * for the page to hydrate and for its WASM chunks to arrive, and sums what came from the server. */
async function firstVisit(browser, baseUrl, pathname, cookie) {
  await browser.url(`${baseUrl}/healthz`);
  const [name, value] = cookie.split('=');
  await browser.setCookies({ name, value, path: '/', httpOnly: true });
  await browser.url(`${baseUrl}${pathname}`);
  assert.equal(new URL(await browser.getUrl()).pathname, pathname, `${pathname} opens for this session`);
  await waitFor(() => isHydrated(browser), { timeout: HYDRATION_TIMEOUT, message: `${pathname} to hydrate` });
  // The page's chunks load after hydration starts: wait until no resource has arrived for a while.
  let seen = -1;
  await waitFor(
    async () => {
      const count = await browser.execute(() => performance.getEntriesByType('resource').length);
      const settled = count === seen;
      seen = count;
      return settled;
    },
    { timeout: HYDRATION_TIMEOUT, interval: 1_000, message: `${pathname}'s downloads to end` },
  );
  const entries = await browser.execute(() =>
    [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
      .filter((entry) => new URL(entry.name).origin === location.origin)
      .map((entry) => ({ path: new URL(entry.name).pathname, bytes: entry.encodedBodySize })),
  );
  const total = entries.reduce((sum, entry) => sum + entry.bytes, 0);
  return { pathname, kb: Math.round((total / 1024) * 10) / 10, files: entries };
}

export default [
  {
    name: 'page weight: the heaviest page of each role, as a first visit downloads it',
    skip: ({ engine }) => engine !== 'chromium' && 'the figures are the server’s; Chromium measures them',
    async run({ browser, baseUrl }) {
      const { cookie: beneficiary } = await beneficiaryFromNode(baseUrl);
      const { cookie: advisor } = await staffFromEnv(baseUrl, 'ADVISOR');

      const pages = [await firstVisit(browser, baseUrl, '/projet', beneficiary), await firstVisit(browser, baseUrl, '/conseiller', advisor)];

      for (const page of pages) {
        assert.ok(page.files.some((file) => file.path.endsWith('.wasm') && file.bytes > 0), `${page.pathname} downloaded its WASM`);
        console.log(`    ${page.pathname}: ${page.kb} KB on the wire (${page.files.length} files)`);
      }
      fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
      fs.writeFileSync(RESULTS, JSON.stringify(pages, null, 2));
    },
  },
];
