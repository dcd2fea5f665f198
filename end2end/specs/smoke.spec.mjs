// Smoke specs: the public pages render, hydrate, pass the accessibility audit, and can be used
// with a keyboard and on a narrow screen. See run.mjs for the spec format.
//
// Element reads go through WebDriver's own commands (find element, text, property, attribute)
// wherever they can, so that the same assertions hold in the JavaScript-off engines.

import assert from 'node:assert/strict';

import { axeAudit, formatViolations } from '../lib/axe.mjs';
import { HYDRATION_TIMEOUT, clean, isHydrated, textOf } from '../lib/app.mjs';
import { consoleErrors } from '../lib/console.mjs';
import { waitFor } from '../lib/wait.mjs';

const FOOTER_PAGES = [
  { href: '/cgu', h1: "Conditions générales d'utilisation" },
  { href: '/confidentialite', h1: 'Politique de confidentialité' },
  { href: '/accessibilite', h1: "Déclaration d'accessibilité" },
  { href: '/contact', h1: 'Contact' },
];

// Sessions in which the app did not hydrate: no point waiting for it again there.
const neverHydrated = new WeakSet();

/**
 * In the JS engines, waits (without failing) for the app to hydrate, so that what follows sees
 * the page as a user does; the hydration spec is the one that fails if it never happens.
 */
async function settle(browser, js) {
  if (!js || neverHydrated.has(browser)) return;
  await waitFor(() => isHydrated(browser), { timeout: 10_000 }).catch(() => neverHydrated.add(browser));
}

/**
 * A link's target as `{ pathname, hash }`. WebKitGTK's "get element attribute" gives `href`
 * already resolved to an absolute URL, the others give the attribute as written.
 */
async function hrefOf(browser, link) {
  const url = new URL(await link.getAttribute('href'), await browser.getUrl());
  return { pathname: url.pathname, hash: url.hash };
}

/** Waits for the page's h1 to read `expected`, tolerating the page changing underneath. */
async function waitForH1(browser, expected) {
  return waitFor(
    async () => {
      try {
        const h1 = await browser.$('h1');
        return (await h1.isExisting()) && clean(await h1.getText()) === expected;
      } catch {
        return false; // the old page went away between finding the h1 and reading it
      }
    },
    { timeout: 15_000, message: `an h1 reading "${expected}" (at ${await browser.getUrl()})` },
  );
}

export default [
  {
    name: 'home page renders in French with skip link, header, main and footer links',
    async run({ browser, baseUrl }) {
      await browser.url(`${baseUrl}/`);

      assert.equal(await browser.$('html').getAttribute('lang'), 'fr', 'the page language is French');
      assert.match(await browser.getTitle(), /Passerelle/, 'the title names the service');

      // The skip link is the first element of the body and leads to <main id="contenu">.
      const skipLink = await browser.$('body > :first-child');
      assert.equal(await skipLink.getTagName(), 'a', 'the first element of the body is a link');
      assert.equal(await textOf(skipLink), 'Aller au contenu');
      assert.deepEqual(await hrefOf(browser, skipLink), { pathname: '/', hash: '#contenu' });
      const target = await browser.$('#contenu');
      assert.ok(await target.isExisting(), 'the skip link target #contenu exists');
      assert.equal(await target.getTagName(), 'main', 'the skip link target is <main>');

      const header = await browser.$('body > header');
      assert.ok(await header.isExisting(), 'there is a page header');
      assert.ok(await header.$('a[href="/"]').isExisting(), 'the header links to the home page');

      assert.equal(await browser.$$('main').length, 1, 'there is exactly one <main>');
      const h1s = await browser.$$('h1');
      assert.equal(h1s.length, 1, 'there is exactly one h1');
      assert.ok((await textOf(h1s[0])).length > 0, 'the h1 is not empty');

      const footerLinks = await browser.$$('body > footer a');
      const hrefs = [];
      for (const link of footerLinks) hrefs.push((await hrefOf(browser, link)).pathname);
      assert.deepEqual(hrefs, FOOTER_PAGES.map((page) => page.href), 'the footer links');
    },
  },

  {
    name: 'home page hydrates without console error',
    async run({ browser, baseUrl, js }) {
      if (!js) {
        // The page's own scripts must not have run: no hydration marker, and not even the inline
        // script that Leptos puts at the end of the page (it defines __RESOLVED_RESOURCES).
        // Scripts sent through WebDriver still run with JavaScript disabled, which is what makes
        // the second check possible.
        await browser.url(`${baseUrl}/`);
        assert.equal(
          await browser.$('html').getAttribute('data-hydrated'),
          null,
          'no hydration marker with JavaScript off',
        );
        assert.match(
          await browser.getPageSource(),
          /__RESOLVED_RESOURCES\s*=/,
          'the page has the inline Leptos script this check relies on',
        );
        assert.equal(
          await browser.execute(() => typeof window.__RESOLVED_RESOURCES),
          'undefined',
          "the page's inline script did not run, so JavaScript really is off",
        );
        return;
      }

      // Null in WebKit (no WebDriver BiDi): there the hydration marker is the whole proof.
      const errors = await consoleErrors(browser);
      await browser.url(`${baseUrl}/`);
      await waitFor(
        async () => {
          // Any error fails the spec anyway: stop waiting at the first one.
          if (errors?.length) throw new Error(`console error before hydration: ${JSON.stringify(errors)}`);
          return isHydrated(browser);
        },
        { timeout: HYDRATION_TIMEOUT, message: 'html[data-hydrated="true"] (set at the end of hydration)' },
      );
      if (errors) assert.deepEqual(errors, [], 'no console error or uncaught exception');
    },
  },

  {
    name: 'home page passes the axe-core WCAG 2.0/2.1 A and AA audit',
    // With the page's JavaScript off, scripts sent through WebDriver still run, and so do
    // promise callbacks, but timers and animation frames never fire (checked in Chromium with
    // --blink-settings=scriptEnabled=false and in Firefox with javascript.enabled=false), so
    // axe.run() never settles. The audit therefore runs in the JS engines only.
    skip: ({ js }) => !js && "axe-core cannot run with the page's JavaScript off (its timers never fire)",
    async run({ browser, baseUrl, js }) {
      await browser.url(`${baseUrl}/`);
      await settle(browser, js);
      const violations = await axeAudit(browser);
      assert.ok(violations.length === 0, `axe-core violations:\n${formatViolations(violations)}`);
    },
  },

  {
    name: 'unknown address shows the French 404 page',
    async run({ browser, baseUrl }) {
      const path = '/cette-adresse-n-existe-pas';
      // WebDriver does not expose the HTTP status: ask for it directly.
      const response = await fetch(`${baseUrl}${path}`);
      assert.equal(response.status, 404, 'the HTTP status is 404');

      await browser.url(`${baseUrl}${path}`);
      assert.match(await browser.getTitle(), /Page introuvable/);
      assert.equal(clean(await browser.$('h1').getText()), "Cette page n'existe pas");
    },
  },

  {
    name: 'footer links lead to the CGU, confidentialité, accessibilité and contact pages',
    async run({ browser, baseUrl, js }) {
      // Go from page to page through the footer, which also checks that every page has it.
      await browser.url(`${baseUrl}/`);
      for (const page of FOOTER_PAGES) {
        await settle(browser, js);
        await browser.$(`footer a[href="${page.href}"]`).click();
        await waitFor(async () => new URL(await browser.getUrl()).pathname === page.href, {
          timeout: 15_000,
          message: `the address to become ${page.href}`,
        });
        await waitForH1(browser, page.h1);
      }
    },
  },

  {
    name: 'page is usable 320 px wide',
    async run({ browser, baseUrl, engine }) {
      const WIDTH = 320;
      if (browser.isBidi) {
        // Chromium and Firefox: BiDi sets the viewport itself, to any size.
        await browser.setViewport({ width: WIDTH, height: 640 });
      } else {
        // WebKitGTK: only the window can be resized, and MiniBrowser's window does not get
        // narrower than its toolbar (447 px with WebKitGTK 2.50). The check below then runs at
        // the narrowest width the engine allows.
        await browser.setWindowSize(WIDTH, 640);
      }
      await browser.url(`${baseUrl}/`);

      const layout = await browser.execute(() => {
        const root = document.documentElement;
        const width = root.clientWidth; // the viewport without its vertical scroll bar
        // Visible elements whose box sticks out past the right edge of the viewport.
        const overflowing = [];
        for (const element of document.body.querySelectorAll('*')) {
          const rect = element.getBoundingClientRect();
          if (rect.width === 0 || rect.height === 0) continue;
          if (rect.right > width + 1) {
            overflowing.push(`${element.tagName.toLowerCase()}${element.className ? `.${element.className}` : ''} (right edge at ${Math.round(rect.right)} px)`);
          }
        }
        return { innerWidth: window.innerWidth, width, scrollWidth: root.scrollWidth, overflowing };
      });

      if (browser.isBidi) {
        assert.equal(layout.innerWidth, WIDTH, 'the viewport is 320 px wide');
      } else if (layout.innerWidth > WIDTH) {
        console.log(`      note: ${engine} cannot go below ${layout.innerWidth} px wide; checked at that width`);
      }
      assert.ok(
        layout.scrollWidth <= layout.width,
        `no horizontal scrolling: the page is ${layout.scrollWidth} px wide for a ${layout.width} px viewport`,
      );
      assert.deepEqual(layout.overflowing, [], 'no element sticks out of the viewport');
    },
  },

  {
    name: 'keyboard: first Tab focuses the skip link',
    async run({ browser, baseUrl }) {
      await browser.url(`${baseUrl}/`);
      await browser.keys('Tab');
      // WebDriver's own "get active element", which needs no script in the page.
      const active = await browser.$(await browser.getActiveElement());
      assert.equal(await textOf(active), 'Aller au contenu', 'the focused element is the skip link');
    },
  },
];
