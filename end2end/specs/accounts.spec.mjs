// Account specs: registration, activation by email, login, forgotten password, and what the
// pages say when something goes wrong. Each spec registers its own fresh account (unique address
// and NIR), so the specs are independent of each other and of earlier runs. See run.mjs for the
// spec format.
//
// The server must run in development mode with the development mailbox: the emails are read
// from /dev/mailbox with Node's fetch, and the browser then opens the link they contain.
//
// Registrations are limited per client address and hour (accounts.registrations_per_ip_per_hour,
// 10 by default) and every engine registers from 127.0.0.1: scripts/test.sh raises the limit for
// its server; against another server the registration helper stops with an explanation.
//
// Element reads go through WebDriver's own commands (find element, text, property, attribute)
// so that the same assertions hold in the JavaScript-off engines.

import assert from 'node:assert/strict';

import { axeAudit, formatViolations } from '../lib/axe.mjs';
import { consoleErrors } from '../lib/console.mjs';
import { waitFor } from '../lib/wait.mjs';

// Account pages are lazily loaded WASM chunks: hydration can take longer than on the home page.
const HYDRATION_TIMEOUT = 20_000;
// A server answer (a form post, or a page load after one).
const ANSWER_TIMEOUT = 15_000;
const EMAIL_TIMEOUT = 15_000;

const PASSWORD = 'marmotte violette sur le toit';
const NEW_PASSWORD = 'girafe orange dans la bibliothèque';
const WRONG_PASSWORD = 'ce nest pas le bon mot de passe';

const ACTIVATION_SUBJECT = 'Activez votre compte Passerelle';
const RESET_SUBJECT = 'Réinitialisation de votre mot de passe Passerelle';
const BAD_CREDENTIALS = 'Identifiant ou mot de passe incorrect.';

// ---------------------------------------------------------------------------------------------
// Text and page helpers (as in the smoke specs)

/** Text as a reader sees it: typographic apostrophes and runs of white space normalised. */
const clean = (text) => String(text ?? '').replace(/[’ʼ]/g, "'").replace(/\s+/g, ' ').trim();

/** The `textContent` of an element: unlike WebDriver's visible text, also for hidden elements. */
const textOf = async (element) => clean(await element.getProperty('textContent'));

const isHydrated = (browser) =>
  browser.execute(() => document.documentElement.dataset.hydrated === 'true');

/**
 * In the JS engines, waits for the app to hydrate, so that what follows sees the page as a user
 * does. Unlike the smoke specs' `settle`, it fails: these specs use the interactive page (the
 * robot check, forms answered in place), which does not exist without hydration.
 */
async function settle(browser, js) {
  if (!js) return;
  const errors = consoleOf.get(browser);
  await waitFor(
    async () => {
      // A panic or an uncaught exception means hydration will not happen: say which at once.
      if (errors?.length) {
        throw new Error(
          `console error while waiting for hydration at ${await browser.getUrl()}: ${firstLine(errors[0].text)}` +
            `\n(all: ${JSON.stringify(errors.map((error) => firstLine(error.text)))})`,
        );
      }
      return isHydrated(browser);
    },
    {
      timeout: HYDRATION_TIMEOUT,
      message: () =>
        'hydration (html[data-hydrated="true"])' +
        (errors ? '' : "; this engine's console cannot be read (no WebDriver BiDi): see the same spec in Chromium or Firefox"),
    },
  );
}

const firstLine = (text) => String(text).split('\n').slice(0, 2).join(' ');

/** Opens a page of the app and, with JavaScript, waits for it to hydrate. */
async function open(browser, js, url) {
  await browser.url(url);
  await settle(browser, js);
}

/** The button reading `text` (XPath is evaluated by the driver, so it works without JS too). */
const button = (browser, text) => browser.$(`//button[normalize-space()="${text}"]`);

/** The button whose text starts with `text`. */
const buttonStartingWith = (browser, text) => browser.$(`//button[starts-with(normalize-space(), "${text}")]`);

/**
 * Waits for an element matching `selector` whose text satisfies `expected` (a substring or a
 * RegExp), tolerating the page changing underneath; returns its text.
 */
async function waitForText(browser, selector, expected, { timeout = ANSWER_TIMEOUT } = {}) {
  const matches = (text) => (expected instanceof RegExp ? expected.test(text) : text.includes(expected));
  let seen = [];
  let url = '';
  return waitFor(
    async () => {
      try {
        url = await browser.getUrl();
        seen = [];
        for (const element of await browser.$$(selector)) {
          const text = await textOf(element);
          seen.push(text);
          if (matches(text)) return text;
        }
        return false;
      } catch {
        return false; // the old page went away between finding the element and reading it
      }
    },
    {
      timeout,
      message: () =>
        `${selector} reading ${expected instanceof RegExp ? expected : `"${expected}"`} at ${url} ` +
        `(seen: ${JSON.stringify(seen)})`,
    },
  );
}

/** Waits for the address bar to show `pathname` (and, if given, a query matching `search`). */
async function waitForPath(browser, pathname, { search, timeout = ANSWER_TIMEOUT } = {}) {
  let url = '';
  await waitFor(
    async () => {
      url = await browser.getUrl();
      const parsed = new URL(url);
      return parsed.pathname === pathname && (!search || search.test(parsed.search));
    },
    { timeout, message: () => `the address to become ${pathname}${search ? ` with a query matching ${search}` : ''} (now ${url})` },
  );
  return new URL(url);
}

/** Waits for the page's h1 to read `expected`; returns it. */
const waitForH1 = (browser, expected) => waitForText(browser, 'h1', new RegExp(`^${escapeRegExp(expected)}$`));

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * What the page says, for assertion messages: its alerts and error summaries if it has any,
 * otherwise the start of `<main>`.
 */
async function pageSays(browser) {
  try {
    const alerts = [];
    for (const element of await browser.$$('.error-summary, [role="alert"], [role="status"]')) {
      const text = await textOf(element);
      if (text) alerts.push(text);
    }
    if (alerts.length > 0) return alerts.join(' | ');
    const main = await textOf(await browser.$('main'));
    return main.length > 600 ? `${main.slice(0, 600)}…` : main;
  } catch {
    return '(the page could not be read)';
  }
}

/** Text of the page's `<main>`. */
async function mainText(browser) {
  return textOf(await browser.$('main'));
}

/**
 * Registrations are limited per client address (10 an hour), and every connection of these specs
 * comes from 127.0.0.1: say so plainly rather than fail on a puzzling message.
 */
function failIfRegistrationLimited(text) {
  if (text.includes("Trop d'inscriptions")) {
    throw new Error(
      'the server refuses registrations from this address (10 per hour, rejected ones included): run each ' +
        `engine against a fresh database, or wait an hour. The page says: ${text}`,
    );
  }
}

/**
 * In the JS engines, starts collecting console errors (null in WebKit, which has no BiDi, and
 * without JavaScript). Call before the first navigation; check with `assertNoConsoleErrors`.
 */
async function watchConsole(browser, js) {
  const errors = js ? await consoleErrors(browser) : null;
  if (errors) consoleOf.set(browser, errors);
  return errors;
}

/** The console errors collected for each session (see `watchConsole`), for `settle`. */
const consoleOf = new WeakMap();

function assertNoConsoleErrors(errors) {
  if (errors) assert.deepEqual(errors, [], 'no console error or uncaught exception');
}

// ---------------------------------------------------------------------------------------------
// Test people: unique address, valid NIR

const random = (min, max) => min + Math.floor(Math.random() * (max - min + 1));
const pad = (number, width) => String(number).padStart(width, '0');

/** The NIR key: 97 − (the 13 first characters mod 97), with 2A counted as 19 and 2B as 18. */
function nirKey(first13) {
  const numeric = first13.replace('2A', '19').replace('2B', '18');
  return pad(97n - (BigInt(numeric) % 97n), 2);
}

/** Spaced the way the Vitale card prints it: `1 85 07 75 123 456 78`. */
const spaced = (nir) =>
  [nir.slice(0, 1), nir.slice(1, 3), nir.slice(3, 5), nir.slice(5, 7), nir.slice(7, 10), nir.slice(10, 13), nir.slice(13)].join(' ');

/**
 * A new person: unique address (a run stamp and random letters), and a valid NIR consistent with
 * the civility and date of birth, whose commune and order number are random.
 */
function newPerson({ department = '75' } = {}) {
  const woman = Math.random() < 0.5;
  const year = random(1960, 1999);
  const month = random(1, 12);
  const first13 = `${woman ? 2 : 1}${pad(year % 100, 2)}${pad(month, 2)}${department}${pad(random(1, 999), 3)}${pad(random(1, 999), 3)}`;
  const nir = first13 + nirKey(first13);
  const email = `e2e-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@exemple.fr`;
  return {
    civility: woman ? 'madame' : 'monsieur',
    birthName: woman ? 'Lefèvre' : 'Rossi',
    firstName: woman ? 'Maëlle' : 'Jérôme',
    birthDate: `${pad(random(1, 28), 2)}/${pad(month, 2)}/${year}`,
    email,
    phone: '06 12 34 56 78',
    nir,
    password: PASSWORD,
  };
}

/** How the app shows an address it must not reveal: first letter, then •••@domain. */
const masked = (email) => `${email[0]}•••@${email.split('@')[1]}`;

// ---------------------------------------------------------------------------------------------
// The development mailbox, read with Node's fetch

const unescapeHtml = (text) =>
  text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

/** Every email of the development mailbox, newest first: `{ id, to, subject }`. */
async function mailbox(baseUrl) {
  const response = await fetch(`${baseUrl}/dev/mailbox`);
  if (!response.ok) throw new Error(`GET /dev/mailbox answered ${response.status}: is the server in development mode?`);
  const html = await response.text();
  const emails = [];
  for (const row of html.matchAll(/<tr>([\s\S]*?)<\/tr>/g)) {
    const cells = [...row[1].matchAll(/<td>([\s\S]*?)<\/td>/g)].map((cell) => cell[1]);
    const link = cells[1]?.match(/<a href="\/dev\/mailbox\/([^"]+)">([\s\S]*?)<\/a>/);
    if (!link) continue;
    emails.push({ to: unescapeHtml(cells[0]), id: unescapeHtml(link[1]), subject: unescapeHtml(link[2]) });
  }
  return emails;
}

/** Waits until `to` has received at least `count` emails with `subject`; returns them, newest first. */
async function waitForEmails(baseUrl, to, subject, count = 1) {
  let found = [];
  await waitFor(
    async () => {
      found = (await mailbox(baseUrl)).filter((email) => email.to === to && email.subject === subject);
      return found.length >= count;
    },
    {
      timeout: EMAIL_TIMEOUT,
      interval: 200,
      message: () => `${count} email(s) "${subject}" to ${to} in /dev/mailbox (found ${found.length})`,
    },
  );
  return found;
}

/** The one link of an email's text version whose path starts with `pathPrefix`. */
async function linkInEmail(baseUrl, id, pathPrefix) {
  const response = await fetch(`${baseUrl}/dev/mailbox/${encodeURIComponent(id)}`);
  assert.equal(response.status, 200, `GET /dev/mailbox/${id}`);
  const html = await response.text();
  const text = html.match(/<pre class="email-text">([\s\S]*?)<\/pre>/)?.[1];
  assert.ok(text, `email ${id} has a text version`);
  const links = [...text.matchAll(/<a href="([^"]+)">/g)]
    .map((match) => unescapeHtml(match[1]))
    .filter((href) => href.startsWith(`${baseUrl}${pathPrefix}`));
  assert.equal(links.length, 1, `email ${id} has one link to ${baseUrl}${pathPrefix}…: ${JSON.stringify(links)}`);
  return links[0];
}

/** The link of the newest email `subject` to `to` (waiting for it), pointing under `pathPrefix`. */
async function newestLink(baseUrl, to, subject, pathPrefix, count = 1) {
  const [newest] = await waitForEmails(baseUrl, to, subject, count);
  return linkInEmail(baseUrl, newest.id, pathPrefix);
}

// ---------------------------------------------------------------------------------------------
// Account steps, done in the browser as a person would

/** The words the JavaScript-off robot question uses, and their value. */
const NUMBER_WORDS = { zéro: 0, un: 1, deux: 2, trois: 3, quatre: 4, cinq: 5, six: 6, sept: 7, huit: 8, neuf: 9 };

/** "Je ne suis pas un robot": the checkbox with JavaScript, the arithmetic question without. */
async function passRobotCheck(browser, js) {
  if (js) {
    const box = await browser.$('#robot-case');
    await box.waitForExist({ timeout: HYDRATION_TIMEOUT, timeoutMsg: 'the robot checkbox #robot-case (shown once the page is interactive)' });
    await box.click();
    await waitForText(browser, '#robot-etat', 'Vérification réussie.');
    return;
  }
  const question = await textOf(await browser.$('label[for="champ-robot-answer"]'));
  const match = question.match(/Combien font (\S+) plus (\S+) \?/);
  assert.ok(match && match[1] in NUMBER_WORDS && match[2] in NUMBER_WORDS, `a question the spec can answer: "${question}"`);
  await browser.$('#champ-robot-answer').setValue(String(NUMBER_WORDS[match[1]] + NUMBER_WORDS[match[2]]));
}

/**
 * A fresh visit to /inscription shows an empty form: nothing typed for an earlier registration
 * in this browser (a shared computer: the next person must not see someone's NIR), and the
 * consent boxes unticked (consent is a deliberate act).
 */
async function assertBlankRegistrationForm(browser) {
  const filled = [];
  for (const id of ['champ-birth-name', 'champ-usage-name', 'champ-first-name', 'champ-birth-date', 'champ-email', 'champ-phone', 'champ-nir']) {
    const value = await browser.$(`#${id}`).getProperty('value');
    if (value) filled.push(`#${id}="${value}"`);
  }
  for (const id of ['civilite-madame', 'civilite-monsieur', 'champ-accept-cgu', 'champ-accept-privacy']) {
    if (await browser.$(`#${id}`).isSelected()) filled.push(`#${id} checked`);
  }
  assert.deepEqual(filled, [], 'a new visit to /inscription starts from an empty form (nothing from an earlier registration)');
}

/**
 * Fills the registration form for `person` and submits it. `nir` and `passwordConfirm` may be
 * overridden to make the form wrong on purpose. Does not wait for the answer.
 */
async function submitRegistration(browser, baseUrl, js, person, { nir = person.nir, passwordConfirm = person.password } = {}) {
  await open(browser, js, `${baseUrl}/inscription`);
  await waitForH1(browser, 'Créer votre compte');
  await assertBlankRegistrationForm(browser);
  await browser.$(`#civilite-${person.civility}`).click();
  await browser.$('#champ-birth-name').setValue(person.birthName);
  await browser.$('#champ-first-name').setValue(person.firstName);
  await browser.$('#champ-birth-date').setValue(person.birthDate);
  await browser.$('#champ-email').setValue(person.email);
  await browser.$('#champ-phone').setValue(person.phone);
  await browser.$('#champ-nir').setValue(nir);
  await browser.$('#champ-password').setValue(person.password);
  await browser.$('#champ-password-confirm').setValue(passwordConfirm);
  await browser.$('#champ-accept-cgu').click();
  await browser.$('#champ-accept-privacy').click();
  await passRobotCheck(browser, js);
  await button(browser, 'Créer mon compte').click();
}

/**
 * Waits for the answer to a registration that should lead to `pathname`; fails with what the
 * page says instead (in particular when the per-address registration limit is reached).
 */
async function waitForRegistrationPage(browser, pathname) {
  try {
    return await waitForPath(browser, pathname);
  } catch (error) {
    const text = await pageSays(browser);
    failIfRegistrationLimited(text);
    throw new Error(`${error.message}\nThe page says: ${text}`);
  }
}

/** Registers `person` and waits for the "activate your account" page. */
async function register(browser, baseUrl, js, person, options) {
  await submitRegistration(browser, baseUrl, js, person, options);
  const url = await waitForRegistrationPage(browser, '/inscription/envoye');
  await settle(browser, js);
  await waitForH1(browser, "Plus qu'une étape : activez votre compte");
  return url;
}

/** Opens the newest activation link sent to `email` and activates the account with its button. */
async function activateFromEmail(browser, baseUrl, js, email) {
  const link = await newestLink(baseUrl, email, ACTIVATION_SUBJECT, '/activation/');
  await open(browser, js, link);
  await waitForH1(browser, 'Activation de votre compte');
  await waitForText(browser, 'main p', 'Votre lien est valable');
  await button(browser, 'Activer mon compte').click();
  await waitForPath(browser, '/connexion', { search: /(^|[?&])active=1(&|$)/ });
  await settle(browser, js);
  await waitForText(browser, '[role="status"]', 'Votre compte est activé');
  return link;
}

/** Registers and activates a new account; returns the person. */
async function newActiveAccount(browser, baseUrl, js, options) {
  const person = newPerson(options);
  await register(browser, baseUrl, js, person);
  await activateFromEmail(browser, baseUrl, js, person.email);
  return person;
}

/** Submits the login form (opening /connexion first). Does not wait for the answer. */
async function submitLogin(browser, baseUrl, js, email, password) {
  await open(browser, js, `${baseUrl}/connexion`);
  await waitForH1(browser, 'Connexion à votre espace');
  await browser.$('#champ-email').setValue(email);
  await browser.$('#champ-password').setValue(password);
  await button(browser, 'Se connecter').click();
}

/** Logs in and checks that /espace greets `person` by name. */
async function loginAs(browser, baseUrl, js, person, password = person.password) {
  await submitLogin(browser, baseUrl, js, person.email, password);
  await waitForPath(browser, '/espace');
  await settle(browser, js);
  await waitForH1(browser, `Bonjour ${person.firstName} ${person.birthName}`);
}

/** Submits the login form with a wrong password; returns the error summary's text. */
async function failedLogin(browser, baseUrl, js, email, password) {
  await submitLogin(browser, baseUrl, js, email, password);
  return waitForText(browser, '.error-summary, [role="alert"]', /Identifiant ou mot de passe incorrect|Trop de tentatives/);
}

// ---------------------------------------------------------------------------------------------

export default [
  {
    name: 'registration with a Corsican NIR, activation link from the email, then login',
    timeout: 90_000,
    async run({ browser, baseUrl, js }) {
      const errors = await watchConsole(browser, js);
      const person = newPerson({ department: '2A' });
      assert.match(person.nir, /^[12]\d{4}2A\d{8}$/, 'a Corsican NIR (department 2A)');
      // Typed the way the Vitale card prints it, with spaces and a lower-case "a".
      await register(browser, baseUrl, js, { ...person, nir: spaced(person.nir).toLowerCase() });

      // The "check your email" page names the address, masked.
      assert.equal(
        await textOf(await browser.$('main p.lead strong')),
        masked(person.email),
        'the page shows the masked address the link went to',
      );

      const link = await activateFromEmail(browser, baseUrl, js, person.email);
      await loginAs(browser, baseUrl, js, person);

      // The activation link works once.
      await open(browser, js, link);
      await waitForText(browser, '[role="alert"]', 'déjà servi');
      assert.equal(await button(browser, 'Activer mon compte').isExisting(), false, 'no activation button for a used link');

      assertNoConsoleErrors(errors);
    },
  },

  {
    name: 'registration errors are shown beside each field and in a summary, and typed values are kept except passwords',
    async run({ browser, baseUrl, js }) {
      const errors = await watchConsole(browser, js);
      const person = newPerson();
      // A wrong key: the right one plus one (mod 97, never 00).
      const wrongKey = pad((Number(person.nir.slice(13)) % 97) + 1, 2);
      const wrongNir = person.nir.slice(0, 13) + wrongKey;
      await submitRegistration(browser, baseUrl, js, person, {
        nir: wrongNir,
        passwordConfirm: `${person.password} bis`,
      });

      const summaryText = await waitForText(browser, '.error-summary', /à corriger/);
      failIfRegistrationLimited(summaryText);
      assert.equal(new URL(await browser.getUrl()).pathname, '/inscription', 'still on the registration page');
      await settle(browser, js);
      const summary = await browser.$('.error-summary');
      assert.equal(await summary.getAttribute('role'), 'alert', 'the summary is announced (role="alert")');
      assert.match(summaryText, /^2 informations sont à corriger/, `the summary counts two errors: "${summaryText}"`);

      // One link per wrong field, in the order of the page, each to its input.
      const links = await summary.$$('a');
      const targets = [];
      for (const link of links) {
        // WebKitGTK gives `href` already resolved to an absolute URL: keep the fragment.
        targets.push(new URL(await link.getAttribute('href'), await browser.getUrl()).hash);
      }
      assert.deepEqual(targets, ['#champ-nir', '#champ-password-confirm'], 'the summary links to the two wrong fields');
      assert.match(await textOf(links[0]), /^Numéro de sécurité sociale : .*clé/, 'the NIR entry names the field and the key');
      assert.match(await textOf(links[1]), /^Confirmation du mot de passe : .*identiques/, 'the confirmation entry');

      // The summary takes the focus (an Effect with JavaScript, `autofocus` without).
      await waitFor(
        async () => (await browser.$(await browser.getActiveElement()).getAttribute('class'))?.includes('error-summary'),
        { timeout: 5000, message: 'the error summary to have the focus' },
      );

      // Beside each wrong field: its message, tied to the input, which is marked invalid.
      for (const [id, words] of [['champ-nir', 'clé'], ['champ-password-confirm', 'identiques']]) {
        const input = await browser.$(`#${id}`);
        assert.equal(await input.getAttribute('aria-invalid'), 'true', `#${id} has aria-invalid="true"`);
        assert.ok(
          (await input.getAttribute('aria-describedby'))?.split(/\s+/).includes(`${id}-erreur`),
          `#${id} is described by its error message`,
        );
        assert.match(await textOf(await browser.$(`#${id}-erreur`)), new RegExp(words), `the message beside #${id}`);
      }
      for (const id of ['champ-birth-name', 'champ-first-name', 'champ-birth-date', 'champ-email', 'champ-phone', 'champ-password']) {
        assert.equal(await browser.$(`#${id}`).getAttribute('aria-invalid'), null, `#${id} is not marked invalid`);
      }

      // What was typed is still there, except the passwords.
      const kept = {
        'champ-birth-name': person.birthName,
        'champ-first-name': person.firstName,
        'champ-birth-date': person.birthDate,
        'champ-email': person.email,
        'champ-phone': person.phone,
        'champ-nir': wrongNir,
      };
      for (const [id, value] of Object.entries(kept)) {
        assert.equal(await browser.$(`#${id}`).getProperty('value'), value, `#${id} keeps what was typed`);
      }
      assert.equal(await browser.$(`#civilite-${person.civility}`).isSelected(), true, 'the civility stays chosen');
      assert.equal(await browser.$('#champ-accept-cgu').isSelected(), true, 'the CGU box stays ticked');
      assert.equal(await browser.$('#champ-accept-privacy').isSelected(), true, 'the privacy box stays ticked');
      assert.equal(await browser.$('#champ-password').getProperty('value'), '', 'the password is not kept');
      assert.equal(await browser.$('#champ-password-confirm').getProperty('value'), '', 'the confirmation is not kept');

      assertNoConsoleErrors(errors);
    },
  },

  {
    name: 'an email already used explains the shared-address case and offers a reset link',
    timeout: 90_000,
    async run({ browser, baseUrl, js }) {
      const errors = await watchConsole(browser, js);
      const first = newPerson();
      await register(browser, baseUrl, js, first);

      // Someone else (another NIR) with the same address, written in capitals.
      const second = { ...newPerson(), email: first.email.toUpperCase() };
      await submitRegistration(browser, baseUrl, js, second);
      await waitForText(browser, '.panel h2', 'Un compte existe déjà avec cette adresse');
      assert.equal(new URL(await browser.getUrl()).pathname, '/inscription', 'still on the registration page');
      await settle(browser, js);
      const panel = await browser.$('//div[contains(@class, "panel")][h2[normalize-space()="Un compte existe déjà avec cette adresse"]]');
      assert.equal(await panel.getAttribute('role'), 'alert', 'the panel is announced (role="alert")');
      const panelText = await textOf(panel);
      assert.equal((await textOf(await panel.$('strong'))).toLowerCase(), first.email, 'the panel names the address');
      assert.match(panelText, /Une adresse ne peut servir qu'à un seul compte/, 'one address, one account');
      assert.match(panelText, /si vous la partagez avec un proche/, 'the shared-address case');
      assert.match(panelText, /créez votre compte avec une autre adresse/, 'what to do then');

      // The reset link, sent from the panel itself.
      await button(browser, 'Mot de passe oublié ? Recevoir un lien à cette adresse').click();
      if (js) {
        await waitForText(browser, '.panel [role="status"]', /C'est envoyé\. Le lien fonctionne 60 minutes/);
      } else {
        // Without JavaScript the form posts to the forgotten-password action, whose page answers.
        await waitForPath(browser, '/mot-de-passe-oublie');
        await waitForText(browser, '[role="status"]', 'Si un compte existe avec cette adresse');
      }
      const link = await newestLink(baseUrl, first.email, RESET_SUBJECT, '/mot-de-passe/nouveau/');
      await open(browser, js, link);
      await waitForH1(browser, 'Choisir un nouveau mot de passe');
      assert.ok(await browser.$('#champ-password').isExisting(), 'the reset link opens the new-password form');

      assertNoConsoleErrors(errors);
    },
  },

  {
    name: 'a NIR already used offers a reset link to the masked address',
    timeout: 90_000,
    async run({ browser, baseUrl, js }) {
      const errors = await watchConsole(browser, js);
      const first = newPerson();
      await register(browser, baseUrl, js, first);

      // Same NIR, another address.
      const second = { ...newPerson(), civility: first.civility, birthDate: first.birthDate, nir: first.nir };
      await submitRegistration(browser, baseUrl, js, second);
      const url = await waitForRegistrationPage(browser, '/inscription/compte-existant');
      assert.ok(url.searchParams.get('t'), 'the page address carries a ticket');
      await settle(browser, js);
      await waitForH1(browser, 'Un compte existe déjà pour ce numéro de sécurité sociale');
      const lead = await waitForText(browser, 'main p.lead', 'Le compte existant est rattaché');
      assert.equal(await textOf(await browser.$('main p.lead strong')), masked(first.email), 'the masked address of the existing account');
      assert.ok(!lead.includes(first.email) && !(await mainText(browser)).includes(first.email), 'the full address is never shown');

      await button(browser, `Envoyer un lien à ${masked(first.email)}`).click();
      await waitForText(
        browser,
        '[role="status"]',
        `Un lien pour choisir un nouveau mot de passe a été envoyé à ${masked(first.email)}`,
      );
      const link = await newestLink(baseUrl, first.email, RESET_SUBJECT, '/mot-de-passe/nouveau/');
      assert.equal(
        (await mailbox(baseUrl)).filter((email) => email.to === second.email).length,
        0,
        'nothing is sent to the new address',
      );
      await open(browser, js, link);
      await waitForH1(browser, 'Choisir un nouveau mot de passe');
      assert.ok(await browser.$('#champ-password').isExisting(), 'the reset link opens the new-password form');

      assertNoConsoleErrors(errors);
    },
  },

  {
    name: 'no activation link received: the page shows the masked address and resends the link',
    timeout: 90_000,
    async run({ browser, baseUrl, js }) {
      const errors = await watchConsole(browser, js);
      const person = newPerson();
      await register(browser, baseUrl, js, person);
      assert.equal(await textOf(await browser.$('main p.lead strong')), masked(person.email), 'the masked address');
      assert.ok(!(await mainText(browser)).includes(person.email), 'the full address is not shown');
      const [firstEmail] = await waitForEmails(baseUrl, person.email, ACTIVATION_SUBJECT, 1);
      const firstLink = await linkInEmail(baseUrl, firstEmail.id, '/activation/');

      // The correction form is there too, folded.
      const details = await browser.$('details');
      assert.match(await textOf(await details.$('summary')), /^Ce n'est pas la bonne adresse \? Corriger$/);
      assert.ok(await details.$('#champ-email').isExisting(), 'the correction form has an address field');
      assert.ok(await details.$('#champ-password').isExisting(), 'the correction form asks for the password');
      assert.ok(await button(browser, 'Corriger et renvoyer le lien').isExisting(), 'the correction button');

      await button(browser, 'Renvoyer le lien').click();
      await waitForText(browser, '[role="status"]', "Un nouveau lien vient d'être envoyé. Il remplace le précédent.");
      assert.equal(await textOf(await browser.$('main p.lead strong')), masked(person.email), 'still the masked address');

      const emails = await waitForEmails(baseUrl, person.email, ACTIVATION_SUBJECT, 2);
      assert.equal(emails.length, 2, 'two activation emails for this address');
      const secondLink = await linkInEmail(baseUrl, emails[0].id, '/activation/');
      assert.notEqual(secondLink, firstLink, 'the new email has a new link');

      // The new link replaces the old one.
      await open(browser, js, firstLink);
      await waitForText(browser, '[role="alert"]', 'Un lien plus récent vous a été envoyé');
      await activateFromEmail(browser, baseUrl, js, person.email);

      assertNoConsoleErrors(errors);
    },
  },

  {
    name: 'invalid credentials: one generic message, the same for an unknown account',
    timeout: 90_000,
    async run({ browser, baseUrl, js }) {
      const errors = await watchConsole(browser, js);
      const person = await newActiveAccount(browser, baseUrl, js);

      const wrongPassword = await failedLogin(browser, baseUrl, js, person.email, WRONG_PASSWORD);
      assert.match(wrongPassword, new RegExp(escapeRegExp(BAD_CREDENTIALS)), 'the generic message for a wrong password');
      assert.equal(new URL(await browser.getUrl()).pathname, '/connexion', 'still on the login page');
      assert.equal(await browser.$('#champ-email').getProperty('value'), person.email, 'the address typed is kept');

      const unknown = `inconnu-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@exemple.fr`;
      const unknownAccount = await failedLogin(browser, baseUrl, js, unknown, WRONG_PASSWORD);
      assert.equal(unknownAccount, wrongPassword, 'exactly the same message for an unknown address');
      assert.equal(new URL(await browser.getUrl()).pathname, '/connexion', 'still on the login page');

      assertNoConsoleErrors(errors);
    },
  },

  {
    name: 'forgotten password: neutral answer, the reset link works once, and an older link says it was replaced',
    timeout: 120_000,
    async run({ browser, baseUrl, js }) {
      const errors = await watchConsole(browser, js);
      const person = await newActiveAccount(browser, baseUrl, js);

      /** Asks for a reset link for `email` on a fresh page; returns the answer's text. */
      const requestLink = async (email) => {
        await open(browser, js, `${baseUrl}/mot-de-passe-oublie`);
        await waitForH1(browser, 'Mot de passe oublié');
        await browser.$('#champ-email').setValue(email);
        await button(browser, 'Recevoir un lien').click();
        return waitForText(browser, '[role="status"]', 'Si un compte existe avec cette adresse');
      };

      const unknown = `inconnu-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@exemple.fr`;
      const neutral = await requestLink(unknown);
      assert.match(neutral, /Si un compte existe avec cette adresse, un lien .*Il fonctionne 60 minutes/, 'the answer says how long the link works');
      assert.equal(await requestLink(person.email), neutral, 'the same answer for an existing account');
      const [older] = await waitForEmails(baseUrl, person.email, RESET_SUBJECT, 1);
      assert.equal((await mailbox(baseUrl)).filter((email) => email.to === unknown).length, 0, 'nothing sent to an unknown address');

      // A second request: its link replaces the first.
      await requestLink(person.email);
      const emails = await waitForEmails(baseUrl, person.email, RESET_SUBJECT, 2);
      assert.equal(emails[1].id, older.id, 'the first email is now the older one');
      const olderLink = await linkInEmail(baseUrl, older.id, '/mot-de-passe/nouveau/');
      const newerLink = await linkInEmail(baseUrl, emails[0].id, '/mot-de-passe/nouveau/');

      await open(browser, js, olderLink);
      await waitForText(browser, '[role="alert"]', 'remplacé');
      assert.equal(await button(browser, 'Enregistrer le mot de passe').isExisting(), false, 'no form behind a replaced link');

      await open(browser, js, newerLink);
      await waitForH1(browser, 'Choisir un nouveau mot de passe');
      await browser.$('#champ-password').setValue(NEW_PASSWORD);
      await browser.$('#champ-password-confirm').setValue(NEW_PASSWORD);
      await button(browser, 'Enregistrer le mot de passe').click();
      await waitForPath(browser, '/connexion', { search: /(^|[?&])mot-de-passe=1(&|$)/ });
      await settle(browser, js);
      await waitForText(browser, '[role="status"]', 'Votre mot de passe est changé');

      // The link works once.
      await open(browser, js, newerLink);
      await waitForText(browser, '[role="alert"]', 'déjà servi');
      assert.equal(await button(browser, 'Enregistrer le mot de passe').isExisting(), false, 'no form behind a used link');

      // The old password no longer works; the new one does.
      assert.match(await failedLogin(browser, baseUrl, js, person.email, person.password), new RegExp(escapeRegExp(BAD_CREDENTIALS)));
      await loginAs(browser, baseUrl, js, person, NEW_PASSWORD);

      assertNoConsoleErrors(errors);
    },
  },

  {
    name: 'five failed logins lock the account and say for how long',
    timeout: 120_000,
    async run({ browser, baseUrl, js }) {
      const errors = await watchConsole(browser, js);
      const person = await newActiveAccount(browser, baseUrl, js);

      // Each attempt on a fresh page, so that each answer is a new one.
      for (let attempt = 1; attempt <= 4; attempt += 1) {
        const answer = await failedLogin(browser, baseUrl, js, person.email, `${WRONG_PASSWORD} ${attempt}`);
        assert.match(answer, new RegExp(escapeRegExp(BAD_CREDENTIALS)), `attempt ${attempt}: the generic message`);
      }
      const lockedText = /Trop de tentatives ont échoué.*bloqué pendant encore 1 minute/;
      const fifth = await failedLogin(browser, baseUrl, js, person.email, `${WRONG_PASSWORD} 5`);
      assert.match(fifth, lockedText, `the fifth failure locks the account for 1 minute: "${fifth}"`);
      assert.ok(!fifth.includes(BAD_CREDENTIALS), 'the lock message replaces the generic one');
      const alert = await browser.$('//*[@role="alert"][contains(., "Trop de tentatives")]');
      assert.ok(await alert.$('a[href="/mot-de-passe-oublie"]').isExisting(), 'the lock message offers the forgotten-password page');

      // Even the right password waits.
      const rightPassword = await failedLogin(browser, baseUrl, js, person.email, person.password);
      assert.match(rightPassword, lockedText, 'the right password is refused while locked');
      assert.equal(new URL(await browser.getUrl()).pathname, '/connexion', 'not logged in');

      assertNoConsoleErrors(errors);
    },
  },

  {
    name: 'the registration page passes the axe-core audit',
    // See the smoke spec: axe.run() never settles with the page's JavaScript off.
    skip: ({ js }) => !js && "axe-core cannot run with the page's JavaScript off (its timers never fire)",
    async run({ browser, baseUrl, js }) {
      await watchConsole(browser, js);
      await open(browser, js, `${baseUrl}/inscription`);
      await waitForH1(browser, 'Créer votre compte');
      // The interactive robot check is the last part the lazily loaded page renders.
      await browser.$('#robot-case').waitForExist({ timeout: HYDRATION_TIMEOUT });
      const violations = await axeAudit(browser);
      assert.ok(violations.length === 0, `axe-core violations:\n${formatViolations(violations)}`);
    },
  },

  {
    name: 'session about to expire: a warning offers "Rester connecté", which keeps the session',
    // About a minute of idling is the point of this spec.
    timeout: 180_000,
    // The server must end idle sessions after 3 minutes (scripts/test.sh sets it), so the warning
    // (shown 2 minutes before the end) comes after one minute instead of 28.
    skip: ({ js }) =>
      (!js && 'the warning counts down in the page; without JavaScript the server still ends the session and the login page says so')
      || (process.env.E2E_SHORT_SESSION !== '1' && 'needs a server with PASSERELLE_SESSION_IDLE_TIMEOUT_MINUTES=3 and E2E_SHORT_SESSION=1'),
    async run({ browser, baseUrl, js }) {
      const errors = await watchConsole(browser, js);
      const person = await newActiveAccount(browser, baseUrl, js);
      await loginAs(browser, baseUrl, js, person);

      const banner = await browser.$('.session-banner');
      await banner.waitForExist({ timeout: 100_000, timeoutMsg: 'the expiry warning appears' });
      assert.match(await textOf(banner), /Votre session va bientôt expirer/);
      await button(browser, 'Rester connecté').click();
      await banner.waitForExist({ reverse: true, timeout: ANSWER_TIMEOUT, timeoutMsg: 'the warning goes away once extended' });

      await open(browser, js, `${baseUrl}/espace`);
      await waitForH1(browser, `Bonjour ${person.firstName} ${person.birthName}`);
      assertNoConsoleErrors(errors);
    },
  },
];
