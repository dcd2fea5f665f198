// Accessibility audit with axe-core, injected into the page under test.
//
// The page's Content-Security-Policy forbids eval, but scripts sent through WebDriver's
// "execute script" are not subject to it, so axe's source is sent as the script body itself.
//
// With the page's JavaScript disabled, such scripts still run (and promise callbacks too), but
// timers never fire, and axe.run() relies on them: it never settles (checked in Chromium and
// Firefox). So the audit is only usable in the JS engines; see the axe spec's `skip`.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';

import { waitFor } from './wait.mjs';

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// The WCAG 2.0 and 2.1 level A and AA rules: the ones the RGAA is built on.
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/**
 * Runs axe-core on the current page and returns its violations, each reduced to
 * `{ id, impact, help, helpUrl, nodes: [{ target, failureSummary }] }`.
 */
export async function axeAudit(browser) {
  // axe.min.js assigns `window.axe` when there is no module system, which is the case here.
  await browser.execute(`${AXE_SOURCE}\n;return true;`);
  const result = await browser.execute(async (tags) => {
    // eslint-disable-next-line no-undef
    const results = await axe.run(document, { runOnly: { type: 'tag', values: tags } });
    return results.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      helpUrl: violation.helpUrl,
      nodes: violation.nodes.map((node) => ({
        target: node.target,
        failureSummary: node.failureSummary,
      })),
    }));
  }, WCAG_TAGS);
  if (!Array.isArray(result)) throw new Error(`axe-core returned no result: ${JSON.stringify(result)}`);
  return result;
}

/** A readable multi-line account of axe violations, for assertion messages. */
export function formatViolations(violations) {
  return violations
    .map((violation) => {
      const nodes = violation.nodes
        .map((node) => `      ${node.target.join(' ')}\n        ${(node.failureSummary || '').replace(/\n/g, '\n        ')}`)
        .join('\n');
      return `  [${violation.impact}] ${violation.id}: ${violation.help} (${violation.helpUrl})\n${nodes}`;
    })
    .join('\n');
}

/**
 * Audits a page titled `title` and fails with the violations, naming it `what`. A lazily loaded
 * page sets its title again after hydration: the audit waits for it first.
 */
export async function auditPage(browser, title, what = title) {
  await waitFor(async () => (await browser.getTitle()) === `${title} — Passerelle`, { timeout: 20_000, message: `the page title ${title}` });
  const violations = await axeAudit(browser);
  assert.equal(violations.length, 0, `${what} passes axe-core:\n${formatViolations(violations)}`);
}
