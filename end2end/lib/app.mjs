// What the browser specs share: waiting for hydration, reading pages, the development mailbox,
// test people with valid NIRs, and account steps done in the browser as a person would.
//
// Element reads go through WebDriver's own commands (find element, text, property, attribute)
// so that the same assertions hold in the JavaScript-off engines.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { consoleErrors } from './console.mjs';
import { waitFor } from './wait.mjs';

// Account pages are lazily loaded WASM chunks: hydration can take longer than on the home page.
export const HYDRATION_TIMEOUT = 20_000;
// A server answer (a form post, or a page load after one).
export const ANSWER_TIMEOUT = 15_000;
export const EMAIL_TIMEOUT = 15_000;

export const PASSWORD = 'marmotte violette sur le toit';
export const NEW_PASSWORD = 'girafe orange dans la bibliothèque';
export const WRONG_PASSWORD = 'ce nest pas le bon mot de passe';

export const ACTIVATION_SUBJECT = 'Activez votre compte Passerelle';
export const RESET_SUBJECT = 'Réinitialisation de votre mot de passe Passerelle';
export const BAD_CREDENTIALS = 'Identifiant ou mot de passe incorrect.';

// ---------------------------------------------------------------------------------------------
// Text and page helpers (as in the smoke specs)

/** Text as a reader sees it: typographic apostrophes and runs of white space normalised. */
export const clean = (text) => String(text ?? '').replace(/[’ʼ]/g, "'").replace(/\s+/g, ' ').trim();

/** The `textContent` of an element: unlike WebDriver's visible text, also for hidden elements. */
export const textOf = async (element) => clean(await element.getProperty('textContent'));

export const isHydrated = (browser) =>
  browser.execute(() => document.documentElement.dataset.hydrated === 'true');

/**
 * In the JS engines, waits for the app to hydrate, so that what follows sees the page as a user
 * does. Unlike the smoke specs' `settle`, it fails: these specs use the interactive page (the
 * robot check, forms answered in place), which does not exist without hydration.
 */
export async function settle(browser, js) {
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

export const firstLine = (text) => String(text).split('\n').slice(0, 2).join(' ');

/** Opens a page of the app and, with JavaScript, waits for it to hydrate. */
export async function open(browser, js, url) {
  await browser.url(url);
  await settle(browser, js);
}

/** The button reading `text` (XPath is evaluated by the driver, so it works without JS too). */
export const button = (browser, text) => browser.$(`//button[normalize-space()="${text}"]`);

/** The button whose text starts with `text`. */
export const buttonStartingWith = (browser, text) => browser.$(`//button[starts-with(normalize-space(), "${text}")]`);

/**
 * Waits for an element matching `selector` whose text satisfies `expected` (a substring or a
 * RegExp), tolerating the page changing underneath; returns its text.
 */
export async function waitForText(browser, selector, expected, { timeout = ANSWER_TIMEOUT } = {}) {
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
export async function waitForPath(browser, pathname, { search, timeout = ANSWER_TIMEOUT } = {}) {
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
export const waitForH1 = (browser, expected) => waitForText(browser, 'h1', new RegExp(`^${escapeRegExp(expected)}$`));

export const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * What the page says, for assertion messages: its alerts and error summaries if it has any,
 * otherwise the start of `<main>`.
 */
export async function pageSays(browser) {
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
export async function mainText(browser) {
  return textOf(await browser.$('main'));
}

/**
 * Registrations are limited per client address (10 an hour), and every connection of these specs
 * comes from 127.0.0.1: say so plainly rather than fail on a puzzling message.
 */
export function failIfRegistrationLimited(text) {
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
export async function watchConsole(browser, js) {
  const errors = js ? await consoleErrors(browser) : null;
  if (errors) consoleOf.set(browser, errors);
  return errors;
}

/** The console errors collected for each session (see `watchConsole`), for `settle`. */
export const consoleOf = new WeakMap();

export function assertNoConsoleErrors(errors) {
  if (errors) assert.deepEqual(errors, [], 'no console error or uncaught exception');
}

// ---------------------------------------------------------------------------------------------
// Test people: unique address, valid NIR

export const random = (min, max) => min + Math.floor(Math.random() * (max - min + 1));
export const pad = (number, width) => String(number).padStart(width, '0');

/** The NIR key: 97 − (the 13 first characters mod 97), with 2A counted as 19 and 2B as 18. */
export function nirKey(first13) {
  const numeric = first13.replace('2A', '19').replace('2B', '18');
  return pad(97n - (BigInt(numeric) % 97n), 2);
}

/** Spaced the way the Vitale card prints it: `1 85 07 75 123 456 78`. */
export const spaced = (nir) =>
  [nir.slice(0, 1), nir.slice(1, 3), nir.slice(3, 5), nir.slice(5, 7), nir.slice(7, 10), nir.slice(10, 13), nir.slice(13)].join(' ');

/**
 * A new person: unique address (a run stamp and random letters), and a valid NIR consistent with
 * the civility and date of birth, whose commune and order number are random.
 */
export function newPerson({ department = '75' } = {}) {
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
export const masked = (email) => `${email[0]}•••@${email.split('@')[1]}`;

// ---------------------------------------------------------------------------------------------
// The development mailbox, read with Node's fetch

export const unescapeHtml = (text) =>
  text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

/** Every email of the development mailbox, newest first: `{ id, to, subject }`. */
export async function mailbox(baseUrl) {
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
export async function waitForEmails(baseUrl, to, subject, count = 1) {
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
export async function linkInEmail(baseUrl, id, pathPrefix) {
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
export async function newestLink(baseUrl, to, subject, pathPrefix, count = 1) {
  const [newest] = await waitForEmails(baseUrl, to, subject, count);
  return linkInEmail(baseUrl, newest.id, pathPrefix);
}

// ---------------------------------------------------------------------------------------------
// Account steps, done in the browser as a person would

/** The words the JavaScript-off robot question uses, and their value. */
export const NUMBER_WORDS = { zéro: 0, un: 1, deux: 2, trois: 3, quatre: 4, cinq: 5, six: 6, sept: 7, huit: 8, neuf: 9 };

/** "Je ne suis pas un robot": the checkbox with JavaScript, the arithmetic question without. */
export async function passRobotCheck(browser, js) {
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
 * The registration form still holds what `person` typed in its identity fields. Without
 * JavaScript the page came back from the server, which never keeps a NIR: the field is empty
 * and its hint asks for it again.
 */
export async function assertIdentityKept(browser, person, js) {
  const kept = {
    'champ-birth-name': person.birthName,
    'champ-first-name': person.firstName,
    'champ-birth-date': person.birthDate,
    'champ-email': person.email,
    'champ-phone': person.phone,
    'champ-nir': js ? person.nir : '',
  };
  for (const [id, value] of Object.entries(kept)) {
    assert.equal(await browser.$(`#${id}`).getProperty('value'), value, `#${id} keeps what was typed`);
  }
  if (!js) assert.match(await textOf(await browser.$('#champ-nir-aide')), /saisissez-le de nouveau/, 'the NIR is asked for again');
}

/**
 * A fresh visit to /inscription shows an empty form: nothing typed for an earlier registration
 * in this browser (a shared computer: the next person must not see someone's NIR), and the
 * consent boxes unticked (consent is a deliberate act).
 */
export async function assertBlankRegistrationForm(browser) {
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
export async function submitRegistration(browser, baseUrl, js, person, { nir = person.nir, passwordConfirm = person.password } = {}) {
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
export async function waitForRegistrationPage(browser, pathname) {
  try {
    return await waitForPath(browser, pathname);
  } catch (error) {
    const text = await pageSays(browser);
    failIfRegistrationLimited(text);
    throw new Error(`${error.message}\nThe page says: ${text}`);
  }
}

/** Registers `person` and waits for the "activate your account" page. */
export async function register(browser, baseUrl, js, person, options) {
  await submitRegistration(browser, baseUrl, js, person, options);
  const url = await waitForRegistrationPage(browser, '/inscription/envoye');
  await settle(browser, js);
  await waitForH1(browser, "Plus qu'une étape : activez votre compte");
  return url;
}

/** Opens the newest activation link sent to `email` and activates the account with its button. */
export async function activateFromEmail(browser, baseUrl, js, email) {
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

/** Registers and activates a new account (`options.person`, or a new one); returns the person. */
export async function newActiveAccount(browser, baseUrl, js, options) {
  const person = options?.person ?? newPerson(options);
  await register(browser, baseUrl, js, person);
  await activateFromEmail(browser, baseUrl, js, person.email);
  return person;
}

/** Submits the login form (opening /connexion first). Does not wait for the answer. */
export async function submitLogin(browser, baseUrl, js, email, password) {
  await open(browser, js, `${baseUrl}/connexion`);
  await waitForH1(browser, 'Connexion à votre espace');
  await browser.$('#champ-email').setValue(email);
  await browser.$('#champ-password').setValue(password);
  await button(browser, 'Se connecter').click();
}

/** Logs in and checks that /espace greets `person` by name. */
export async function loginAs(browser, baseUrl, js, person, password = person.password) {
  await submitLogin(browser, baseUrl, js, person.email, password);
  await waitForPath(browser, '/espace');
  await settle(browser, js);
  await waitForH1(browser, `Bonjour ${person.firstName} ${person.birthName}`);
}

/** Submits the login form with a wrong password; returns the error summary's text. */
export async function failedLogin(browser, baseUrl, js, email, password) {
  await submitLogin(browser, baseUrl, js, email, password);
  return waitForText(browser, '.error-summary, [role="alert"]', /Identifiant ou mot de passe incorrect|Trop de tentatives/);
}


// ---------------------------------------------------------------------------------------------
// The project

/** A project with every section filled in: the text fields, then the choices (radio values). */
export const COMPLETE_PROJECT = {
  employeur: 'Boulangerie Martin',
  siret: '732 829 320 00074',
  date_entree: '01/09/2015',
  poste: 'Vendeuse',
  metier_intitule: 'Infirmière',
  metier_description: 'Soins et accompagnement des patients.',
  organisme: 'IFSI de Lyon',
  numero_declaration: '11751234575',
  certification: "Diplôme d'État d'infirmier",
  code_certification: 'RNCP8940',
  date_debut: '01/09/2027',
  date_fin: '01/07/2030',
  heures_centre: '2100',
  cout_pedagogique: '24 000',
  motivation: 'Depuis toujours je veux soigner.',
};
export const PROJECT_CHOICES = { contrat: 'cdi', modalite: 'presentiel' };

// ---------------------------------------------------------------------------------------------
// Files and forms

/** A file on disk for the browser to pick: a small PDF or PNG (checked by content on the server). */
export function fileToPick(name, kind) {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'passerelle-e2e-'));
  const file = path.join(folder, name);
  const head = kind === 'png' ? Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex') : Buffer.from('%PDF-1.7\n');
  fs.writeFileSync(file, Buffer.concat([head, Buffer.alloc(200_000, 0x61)]));
  return file;
}

/** Picks files in a file input (WebDriver sends their paths, one per line). */
export async function pickFiles(browser, selector, files) {
  await (await browser.$(selector)).addValue(files.join('\n'));
}

/** With JavaScript, waits until the page's code handles the forms (the page's chunk may arrive
 * after the rest of the page is interactive, later in WebKit). */
export async function formsReady(browser, js, selector) {
  if (!js) return;
  await waitFor(async () => (await browser.$(selector).getAttribute('data-ready')) === 'on', {
    timeout: 20_000,
    message: `the form ${selector} to be handled by the page (data-ready="on")`,
  });
}

// ---------------------------------------------------------------------------------------------
// The advisor account scripts/test.sh creates with `passerelle admin create`

export const ADVISOR_PASSWORD = 'conseiller des chemins de traverse';

/** An advisor session (cookie header), set up on first use from E2E_ADVISOR_SETUP_LINK. */
export async function advisorCookie(baseUrl) {
  return (await staffFromEnv(baseUrl, 'ADVISOR')).post;
}

/**
 * The session of a staff member scripts/test.sh created: `ADVISOR` (an advisor) or `RECEPTION`
 * (a member of the `accueil` service, the phone platform), from E2E_<who>_EMAIL and
 * E2E_<who>_SETUP_LINK. Both use ADVISOR_PASSWORD.
 */
export async function staffFromEnv(baseUrl, who) {
  const link = process.env[`E2E_${who}_SETUP_LINK`];
  const email = process.env[`E2E_${who}_EMAIL`];
  assert.ok(link && email, `E2E_${who}_SETUP_LINK and E2E_${who}_EMAIL (set by scripts/test.sh)`);
  return staffSession(baseUrl, email, link, ADVISOR_PASSWORD);
}

/** Posts a server function's fields from Node, with a session's cookie header if any. */
export const postFields = (baseUrl, endpoint, fields, cookie = '') =>
  fetch(`${baseUrl}/api/${endpoint}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: baseUrl },
    body: new URLSearchParams(fields),
  });

/**
 * A staff member's session from Node: `{ cookie, post(endpoint, fields) }`. On first use the
 * password is chosen with the set-up link `passerelle admin create` printed (single use).
 */
export async function staffSession(baseUrl, email, link, password) {
  const login = () => postFields(baseUrl, 'session/login', { email, password });
  let response = await login();
  if (response.status !== 200) {
    const token = link.split('/').pop();
    const setup = await postFields(baseUrl, 'account/reset-password', { token, password, password_confirm: password });
    assert.equal(setup.status, 200, `the set-up link of ${email} works (${await setup.text()})`);
    response = await login();
  }
  assert.equal(response.status, 200, `${email} logs in`);
  const cookie = sessionCookieOf(response);
  return { cookie, post: (endpoint, fields) => postFields(baseUrl, endpoint, fields, cookie) };
}

/** The `passerelle_session=…` cookie header a login answer set. */
export function sessionCookieOf(response) {
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith('passerelle_session='));
  assert.ok(cookie, 'a session cookie');
  return cookie.split(';')[0];
}

// ---------------------------------------------------------------------------------------------
// Accounts set up from Node, as the JavaScript-off forms would (no browser involved)

/** Registers `person` as the JavaScript-off form does (answering the robot question); returns the outcome. */
export async function registerFromNode(baseUrl, person) {
  const html = await (await fetch(`${baseUrl}/inscription`)).text();
  const token = html.match(/<input[^>]*name="form\[robot_token\]"[^>]*>/)?.[0].match(/value="([^"]*)"/)?.[1];
  const label = html.match(/<label[^>]*for="champ-robot-answer"[^>]*>([\s\S]*?)<\/label>/)?.[1] ?? '';
  const question = clean(unescapeHtml(label.replace(/<[^>]+>/g, ''))).match(/Combien font (\S+) plus (\S+) \?/);
  assert.ok(token && question, `the registration page asks its robot question (${label})`);
  const fields = {
    civility: person.civility === 'madame' ? 'Madame' : 'Monsieur', // the radio's value; the person's civility names its id
    birth_name: person.birthName,
    first_name: person.firstName,
    birth_date: person.birthDate,
    email: person.email,
    phone: person.phone,
    nir: person.nir,
    password: person.password,
    password_confirm: person.password,
    accept_cgu: 'on',
    accept_privacy: 'on',
    robot_token: unescapeHtml(token),
    robot_answer: String(NUMBER_WORDS[question[1]] + NUMBER_WORDS[question[2]]),
  };
  const response = await postFields(baseUrl, 'account/register', Object.fromEntries(Object.entries(fields).map(([k, v]) => [`form[${k}]`, v])));
  const body = await response.text();
  assert.equal(response.status, 200, `registration of ${person.email}: ${body}`);
  return JSON.parse(body);
}

/** Logs `person` in from Node (accepting new terms if asked); returns the session's cookie header. */
export async function loginFromNode(baseUrl, person) {
  let response = await postFields(baseUrl, 'session/login', { email: person.email, password: person.password });
  const outcome = await response.clone().json();
  if (outcome.NewTerms) response = await postFields(baseUrl, 'session/accept-terms', { ticket: outcome.NewTerms.ticket, accept: 'on' });
  assert.equal(response.status, 200, `${person.email} logs in`);
  return sessionCookieOf(response);
}

/** A registered, activated beneficiary; returns the person and their session cookie. */
export async function beneficiaryFromNode(baseUrl, person = newPerson()) {
  await registerFromNode(baseUrl, person);
  const link = await newestLink(baseUrl, person.email, ACTIVATION_SUBJECT, '/activation/');
  const activated = await postFields(baseUrl, 'account/activate', { token: link.split('/').pop() });
  assert.ok(activated.status < 400, `${person.email} is activated (${activated.status})`);
  return { person, cookie: await loginFromNode(baseUrl, person) };
}
