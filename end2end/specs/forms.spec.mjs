// Every form, filled in as a person would and sent with JavaScript, says it worked: a
// confirmation (`role="status"`) appears and is still there once the page has finished what the
// submission started (a list that reloads must not take it away), or the next page opens.
//
// The forms are not listed here. As `server/tests/api/form_sweep.rs` does without JavaScript,
// the spec sets a scene (a beneficiary with a thread, a document and a request for another; a
// suspected duplicate and a merge request; registrations waiting for activation; a reset link;
// a submitted project; staff; a new version of the terms), crawls each role's pages from their
// start pages and takes every `<form>` that posts to a server function: a form added later is
// swept without a line here. Each is then filled with valid values in the browser and sent with
// its own button; what ends a session or uses up a link goes last (`LAST`, the sweep's order).
//
// The scene runs on its own server (lib/server.mjs): its submissions publish new terms, merge
// accounts and close sessions, which the other specs' accounts must not meet.

import assert from 'node:assert/strict';

import {
  ACTIVATION_SUBJECT,
  ANSWER_TIMEOUT,
  COMPLETE_PROJECT,
  PASSWORD,
  PROJECT_CHOICES,
  RESET_SUBJECT,
  assertNoConsoleErrors,
  beneficiaryFromNode,
  fileToPick,
  firstLine,
  loginFromNode,
  newPerson,
  newestLink,
  nirKey,
  pad,
  pageSays,
  passRobotCheck,
  postFields,
  registerFromNode,
  settle,
  staffSession,
  watchConsole,
} from '../lib/app.mjs';
import { startPrivateServer } from '../lib/server.mjs';
import { waitFor } from '../lib/wait.mjs';

// ---- The scene, set from Node ------------------------------------------------------------------

/** Posts a multipart form from Node: text fields and `[name, file name]` PDF files. */
function postMultipart(baseUrl, endpoint, cookie, fields, files = []) {
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  for (const [name, fileName] of files) body.append(name, new Blob(['%PDF-1.7\n', 'a'.repeat(3000)], { type: 'application/pdf' }), fileName);
  return fetch(`${baseUrl}/api/${endpoint}`, { method: 'POST', headers: { cookie, origin: baseUrl }, body });
}

/** The people, links and tickets the roles' start pages need, and who each role is. */
async function setScene(server) {
  const { baseUrl } = server;
  const expectOk = async (what, response) => assert.ok(response.ok, `${what}: ${response.status} ${await response.text()}`);
  const admin = { email: 'admin-formulaires@exemple.fr', password: PASSWORD };
  const advisor = { email: 'conseiller-formulaires@exemple.fr', password: PASSWORD };
  const adminSession = await staffSession(baseUrl, admin.email, server.createStaff(admin.email, 'Ada Admin', 'admin'), PASSWORD);
  const advisorSession = await staffSession(baseUrl, advisor.email, server.createStaff(advisor.email, 'Alex Conseil', 'advisor'), PASSWORD);

  // Hélène: a thread with her referent, a document, and a document her advisor asks for.
  const helene = await beneficiaryFromNode(baseUrl);
  await expectOk('message', await postMultipart(baseUrl, 'messages/send', helene.cookie, { to: 'referent', subject: 'Mon dossier', body: 'Bonjour' }));
  await expectOk('upload', await postMultipart(baseUrl, 'documents/upload', helene.cookie, { category: 'cv' }, [['file', 'cv.pdf']]));
  const me = await (await postFields(baseUrl, 'space/me', {}, helene.cookie)).json();
  await expectOk('document request', await advisorSession.post('staff/documents/request', { beneficiary_id: me.user_id, category: 'piece_identite' }));

  // A second account that looks like Hélène's (same birth date, names written differently,
  // another NIR): a suspected duplicate the advisors may merge.
  const first13 = `${helene.person.nir.slice(0, 10)}${pad((Number(helene.person.nir.slice(10, 13)) % 998) + 1, 3)}`;
  await beneficiaryFromNode(baseUrl, {
    ...helene.person,
    email: `similaire-${helene.person.email}`,
    firstName: helene.person.firstName.normalize('NFD').replace(/\p{M}/gu, ''),
    birthName: helene.person.birthName.toUpperCase(),
    nir: first13 + nirKey(first13),
  });

  // The same person registering again under another address: her NIR is already known, and she
  // asks for the two to be merged.
  const again = await registerFromNode(baseUrl, { ...helene.person, email: `autre-${helene.person.email}` });
  assert.ok(again.NirTaken, `the second registration finds the first (${JSON.stringify(again)})`);
  await expectOk(
    'merge request',
    await postFields(baseUrl, 'account/merge-request', { ticket: again.NirTaken.ticket, contact_email: `autre-${helene.person.email}`, message: "C'est bien moi" }),
  );

  // Two registrations waiting: Paul's ticket (resend, correct the address), Jules's link.
  const paul = await registerFromNode(baseUrl, newPerson());
  const jules = newPerson();
  await registerFromNode(baseUrl, jules);
  const activation = await newestLink(baseUrl, jules.email, ACTIVATION_SUBJECT, '/activation/');
  await expectOk('forgotten password', await postFields(baseUrl, 'account/forgot-password', { email: helene.person.email }));
  const reset = await newestLink(baseUrl, helene.person.email, RESET_SUBJECT, '/mot-de-passe/nouveau/');

  // Béa has submitted her project: the reopening request and the advisor's decisions are forms.
  const bea = await beneficiaryFromNode(baseUrl);
  const draft = Object.fromEntries(Object.entries({ ...COMPLETE_PROJECT, ...PROJECT_CHOICES }).map(([k, v]) => [`draft[${k}]`, v]));
  await expectOk('project saved', await postFields(baseUrl, 'project/save', { version: '0', ...draft }, bea.cookie));
  await expectOk('project submitted', await postFields(baseUrl, 'project/submit', { version: '1' }, bea.cookie));

  // A new version of the terms: Béa's next login asks her to accept it.
  await expectOk('terms published', await adminSession.post('admin/legal/publish', { document: 'cgu', version: '2', summary: 'Un article sur les cookies' }));

  const path = (link) => link.slice(baseUrl.length);
  return {
    admin,
    roles: [
      {
        who: 'anonymous',
        starts: [
          '/',
          '/inscription',
          '/connexion',
          '/mot-de-passe-oublie',
          `/inscription/envoye?t=${paul.Registered.ticket}`,
          path(activation),
          `/inscription/compte-existant?t=${again.NirTaken.ticket}`,
          path(reset),
        ],
        // The "new terms" form is shown only after a login.
        afterLogin: bea.person,
      },
      { who: 'Hélène', person: helene.person, starts: ['/espace'] },
      { who: 'Béa', person: bea.person, starts: ['/espace'] },
      { who: 'advisor', person: advisor, starts: ['/conseiller'] },
      { who: 'administrator', person: admin, starts: ['/admin'] },
    ],
  };
}

// ---- What runs in the page ----------------------------------------------------------------------

/**
 * Runs in the page (WebDriver sends its source): `op` is one of
 * - `crawl` (arg: start paths): every page reached from them, fetched with the page's session,
 *   and the forms on them;
 * - `forms`: the forms of the page as it is;
 * - `mark` (arg: a form's key): marks that form and its submit button for WebDriver, returns its fields;
 * - `instrument`: counts the requests in flight (fetch and XMLHttpRequest, until their body is read);
 * - `said`: the non-empty statuses and errors the page shows;
 * - `quiet`: whether no request is in flight, after the page has drawn twice.
 * A form's key is the sweep's (`Form::key` in form_sweep.rs): its server function, the action a
 * hidden field or its button names, its fields' names.
 */
function inPage(op, arg) {
  function formsIn(root, page) {
    const found = [];
    for (const form of root.querySelectorAll('form')) {
      const action = form.getAttribute('action') || '';
      if (!action.startsWith('/api/') || (form.getAttribute('method') || '').toLowerCase() === 'get') continue;
      const fixed = [];
      const fields = [];
      let button = null;
      for (const el of form.querySelectorAll('input, select, textarea, button')) {
        const tag = el.tagName.toLowerCase();
        const type = (el.getAttribute('type') || (tag === 'button' ? 'submit' : 'text')).toLowerCase();
        if (tag === 'button' || (tag === 'input' && type === 'submit')) {
          if (!button && type === 'submit') {
            button = el;
            if (el.getAttribute('name')) fixed.push([el.getAttribute('name'), el.getAttribute('value') || '']);
          }
          continue;
        }
        const name = el.getAttribute('name');
        // Disabled fields are never sent; the robot check is passed as a person does.
        if (!name || el.hasAttribute('disabled') || name.includes('robot')) continue;
        const required = el.hasAttribute('required') || el.getAttribute('aria-required') === 'true';
        if (tag === 'select') {
          const values = [...el.querySelectorAll('option')].map((o) => o.getAttribute('value') || '').filter(Boolean);
          fields.push({ name, kind: 'select', values, required });
        } else if (tag === 'textarea') {
          fields.push({ name, kind: 'textarea', type: 'textarea', required });
        } else if (type === 'hidden') {
          fixed.push([name, el.getAttribute('value') || '']);
        } else if (['button', 'reset', 'image'].includes(type)) {
          // not a field
        } else if (el.getAttribute('tabindex') === '-1') {
          fixed.push([name, '']); // a trap for robots, left empty as people leave it
        } else if (type === 'radio') {
          const field = fields.find((f) => f.name === name);
          if (field) field.values.push(el.getAttribute('value') || '');
          else fields.push({ name, kind: 'radio', values: [el.getAttribute('value') || ''], required });
        } else {
          fields.push({ name, kind: type === 'checkbox' || type === 'file' ? type : 'text', type, required });
        }
      }
      const actions = fixed
        .filter(([, v]) => v && v.length <= 30 && /^[a-z_-]+$/.test(v))
        .map(([k, v]) => ` ${k}=${v}`)
        .join('');
      const names = fields.map((f) => f.name).sort();
      const key = `${action.slice('/api/'.length)}${actions} [${names.join(', ')}]`;
      found.push({ key, page, fields, robot: !!form.querySelector('[name*="robot"]'), form, button });
    }
    return found;
  }
  const plain = ({ form, button, ...rest }) => rest;
  const visibleText = (el) => (el.textContent || '').replace(/\s+/g, ' ').trim();

  if (op === 'crawl') {
    return (async () => {
      const queue = [...arg];
      const seen = new Set();
      const forms = {};
      while (queue.length > 0 && seen.size < 250) {
        const path = queue.shift();
        if (seen.has(path)) continue;
        seen.add(path);
        const response = await fetch(path, { credentials: 'same-origin' });
        if (!response.ok || !(response.headers.get('content-type') || '').includes('text/html')) continue;
        const doc = new DOMParser().parseFromString(await response.text(), 'text/html');
        for (const form of formsIn(doc, path)) forms[form.key] ??= plain(form);
        for (const a of doc.querySelectorAll('a[href^="/"]')) {
          const href = a.getAttribute('href').split('#')[0];
          const last = href.split('?')[0].split('/').pop();
          const excluded = ['/api/', '/fichiers/', '/mes-donnees', '/dev/', '/pkg/'].some((p) => href.startsWith(p)) || href.startsWith('//');
          if (!excluded && !last.includes('.')) queue.push(href);
        }
      }
      return Object.values(forms);
    })();
  }
  if (op === 'forms') return formsIn(document, location.pathname + location.search).map(plain);
  if (op === 'mark') {
    for (const el of document.querySelectorAll('[data-balayage]')) el.removeAttribute('data-balayage');
    const form = formsIn(document, location.pathname).find((f) => f.key === arg);
    if (!form) return null;
    form.form.setAttribute('data-balayage', 'formulaire');
    if (form.button) form.button.setAttribute('data-balayage', 'envoyer');
    // A form folded in a <details> ("Vous vous êtes trompé d'adresse ?") is opened by its summary.
    let folded = 0;
    for (let el = form.form.parentElement; el; el = el.parentElement) {
      if (el.tagName === 'DETAILS' && !el.open && el.querySelector(':scope > summary')) {
        el.querySelector(':scope > summary').setAttribute('data-balayage', `ouvrir-${folded}`);
        folded += 1;
      }
    }
    return { ...plain(form), ready: form.form.getAttribute('data-ready'), button: !!form.button, folded };
  }
  if (op === 'instrument') {
    if (window.__balayage) return true;
    window.__balayage = { inFlight: 0 };
    const count = (promise) => {
      window.__balayage.inFlight += 1;
      return promise;
    };
    const done = () => {
      window.__balayage.inFlight -= 1;
    };
    const fetchBefore = window.fetch;
    window.fetch = function (...args) {
      return count(fetchBefore.apply(this, args)).then(
        (response) => {
          response.clone().arrayBuffer().then(done, done);
          return response;
        },
        (error) => {
          done();
          throw error;
        },
      );
    };
    const send = XMLHttpRequest.prototype.send;
    XMLHttpRequest.prototype.send = function (...args) {
      count(null);
      this.addEventListener('loadend', done);
      return send.apply(this, args);
    };
    return true;
  }
  if (op === 'said') {
    const statuses = [...document.querySelectorAll('[role="status"]')].map(visibleText).filter(Boolean);
    const errors = [...document.querySelectorAll('.error-summary, .alert-error, [role="alert"]')].map(visibleText).filter(Boolean);
    return { statuses, errors };
  }
  if (op === 'quiet') {
    return new Promise((resolve) =>
      requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(() => resolve((window.__balayage?.inFlight ?? 0) === 0)))),
    );
  }
  throw new Error(`unknown op ${op}`);
}

/** `inPage` through WebDriver; null while the page is being replaced by another. */
async function page(browser, op, arg) {
  try {
    return await browser.execute(inPage, op, arg ?? null);
  } catch (error) {
    if (/context|navigat|detached|document unloaded|JavaScript execution/i.test(String(error?.message))) return null;
    throw error;
  }
}

// ---- Filling in and sending ---------------------------------------------------------------------

/**
 * Forms whose success uses up another form's link or ticket, changes who is logged in, or closes
 * accounts and sessions still in use: sent last, in this order (prefixes of a form's key). The
 * same list as `LAST` in server/tests/api/form_sweep.rs.
 */
const LAST = [
  'profile/request-deletion',
  'session/logout',
  'account/reset-password',
  'account/existing-reset',
  'session/accept-terms',
  'staff/project/transition',
  'staff/support',
  'staff/merge [',
  // Erases the person the merge and the support actions act on.
  'staff/erase',
  'admin/staff/update change=join',
  'admin/services/save slug=',
  'admin/staff/update change=role',
  'admin/staff/update change=active',
  'session/login',
];

const inSubmissionOrder = (forms) => {
  const rank = (form) => {
    const position = LAST.findIndex((prefix) => form.key.startsWith(prefix));
    return position < 0 ? 0 : position + 1;
  };
  return [...forms].sort((a, b) => rank(a) - rank(b));
};

let fresh = Math.floor(Math.random() * 9000);

/** A valid value for a field, as a person would type or pick it (the sweep's `Sweep::valid`). */
function valid(scene, form, field) {
  fresh += 1;
  const bare = field.name.replace(/\]$/, '').split('[').pop();
  if (form.key.startsWith('session/login') && bare === 'email') return scene.admin.email; // staff accept no terms
  if (field.kind === 'checkbox') return 'on';
  if (field.kind === 'radio' || field.kind === 'select') return field.values[0] ?? '';
  if (field.kind === 'file') return fileToPick('cv.pdf', 'pdf');
  const first13 = `18507750${pad(56000 + (fresh % 40000), 5)}`;
  const byName = {
    nir: first13 + nirKey(first13),
    birth_date: '14/07/1985',
    due_date: '2030-01-15',
    first_name: 'Hélène',
    birth_name: 'Lefèvre',
    usage_name: 'Lefèvre',
    phone: '06 12 34 56 78',
    postal_code: '75011',
    seniority_years: '5',
    version: String(10 + fresh),
    slug: `service-${fresh}`,
    name: 'Sam Conseil',
  };
  if (bare in byName) return byName[bare];
  if (field.type === 'email' || bare.includes('email')) return `balayage${fresh}@exemple.fr`;
  if (field.type === 'password') return PASSWORD;
  if (field.type === 'date') return '2030-01-15';
  if (field.type === 'tel') return '06 12 34 56 78';
  if (field.type === 'number') return '3';
  return 'Texte saisi pour le balayage';
}

/** Types or picks `value` in a field of the marked form, as a person does. */
async function fill(browser, field, value) {
  const base = `form[data-balayage] [name="${field.name}"]`;
  if (field.kind === 'radio') return (await browser.$(`${base}[value="${value}"]`)).click();
  const element = await browser.$(base);
  if (field.kind === 'checkbox') return (await element.isSelected()) ? undefined : element.click();
  if (field.kind === 'select') return element.selectByAttribute('value', value);
  if (field.kind === 'file') return element.addValue(value);
  if (['date', 'time', 'month', 'datetime-local'].includes(field.type)) {
    // A date picker is not typed into the same way in every engine: set it as it would.
    return browser.execute(
      (el, v) => {
        el.value = v;
        el.dispatchEvent(new Event('input', { bubbles: true }));
        el.dispatchEvent(new Event('change', { bubbles: true }));
      },
      element,
      value,
    );
  }
  return element.setValue(value);
}

/** Opens a form's page in the state it needs: logged out for anonymous pages, or after a login. */
async function openSource(browser, baseUrl, role, source) {
  if (role.who === 'anonymous') await browser.deleteCookies();
  if (source.afterLogin) {
    await browser.url(`${baseUrl}/connexion`);
    await settle(browser, true);
    await browser.$('#champ-email').setValue(source.afterLogin.email);
    await browser.$('#champ-password').setValue(source.afterLogin.password);
    await (await browser.$('//button[normalize-space()="Se connecter"]')).click();
    await browser.$('form[action="/api/session/accept-terms"]').waitForExist({ timeout: ANSWER_TIMEOUT, timeoutMsg: 'the new terms after login' });
  } else {
    await browser.url(`${baseUrl}${source.path}`);
    await settle(browser, true);
  }
}

/** Sends `form` filled with valid values; returns what showed it worked. */
async function sendValid(browser, baseUrl, scene, role, form) {
  await openSource(browser, baseUrl, role, form.source);
  const marked = await page(browser, 'mark', form.key);
  if (!marked) return `not tried: no longer offered (an earlier submission used it up)`;
  assert.ok(marked.button, `${form.key}: the form has a button to send it`);
  if (marked.ready !== null) {
    await waitFor(async () => (await browser.$('form[data-balayage]').getAttribute('data-ready')) === 'on', {
      timeout: ANSWER_TIMEOUT,
      message: `${form.key}: the form to be handled by the page (data-ready="on")`,
    });
  }
  // Outermost first.
  for (let i = marked.folded - 1; i >= 0; i -= 1) await (await browser.$(`[data-balayage="ouvrir-${i}"]`)).click();
  for (const field of marked.fields) await fill(browser, field, valid(scene, form, field));
  if (marked.robot) await passRobotCheck(browser, true);
  await page(browser, 'instrument');
  const before = await page(browser, 'said');
  const from = new URL(await browser.getUrl()).pathname;
  await (await browser.$('[data-balayage="envoyer"]')).click();

  // A status ending in "…" ("Enregistrement…") says work is under way, not that it worked: the
  // poll may catch it before the confirmation that follows.
  const isNew = (said) => said.statuses.find((text) => !before.statuses.includes(text) && !text.trim().endsWith('…'));
  const outcome = await waitFor(
    async () => {
      const said = await page(browser, 'said');
      if (new URL(await browser.getUrl()).pathname !== from) return { landed: new URL(await browser.getUrl()).pathname };
      if (!said) return null;
      const error = said.errors.find((text) => !before.errors.includes(text));
      if (error) throw new Error(`${form.key}: valid values were refused: ${error}`);
      const status = isNew(said);
      return status ? { status } : null;
    },
    { timeout: ANSWER_TIMEOUT, message: `${form.key}: a confirmation (role="status") or the next page` },
  );
  if (outcome.landed) {
    await settle(browser, true);
    const said = await page(browser, 'said');
    assert.deepEqual(said?.errors ?? [], [], `${form.key}: the next page (${outcome.landed}) shows no error`);
    return `next page ${outcome.landed}`;
  }
  // Whatever the submission started (a list reloading, a page refreshed) has finished, and the
  // confirmation is still there.
  await waitFor(() => page(browser, 'quiet'), { timeout: ANSWER_TIMEOUT, message: `${form.key}: the page's requests to end` });
  const after = await page(browser, 'said');
  assert.ok(
    after?.statuses.includes(outcome.status),
    `${form.key}: the confirmation "${outcome.status}" stays on screen once the page is done (now: ${await pageSays(browser)})`,
  );
  return `confirmed: ${outcome.status}`;
}

/** The endpoints the scene must offer a form for (a crawl that misses one fails). */
const EXPECTED = [
  'account/register', 'session/login', 'account/forgot-password', 'account/reset-password', 'account/resend-activation',
  'account/correct-email', 'account/merge-request', 'session/accept-terms', 'profile/save', 'profile/change-email',
  'messages/send', 'documents/upload', 'staff/documents/request', 'project/save', 'project/request-reopening',
  'staff/support', 'staff/project/transition', 'staff/merge', 'staff/merge-request/close', 'admin/staff/create', 'admin/services/save',
  'admin/legal/publish',
];

export default [
  {
    name: 'every form the crawl finds, filled in and sent with JavaScript, says it worked and the confirmation stays',
    timeout: 900_000,
    // One JavaScript engine sends every form (about a minute; E2E_FORMS_ENGINE=firefox or webkit
    // picks another: both passed); the hand-written specs send the main ones in all three, and
    // form_sweep.rs sends every one without JavaScript.
    skip: ({ engine, js }) => {
      const sweeper = process.env.E2E_FORMS_ENGINE ?? 'chromium';
      if (!js) return 'without JavaScript, form_sweep.rs sends every form and checks the page it lands on';
      return engine !== sweeper && `swept in ${sweeper} (E2E_FORMS_ENGINE)`;
    },
    run: async ({ browser }) => {
      // Arrange
      const consoleErrors = await watchConsole(browser, true);
      const server = await startPrivateServer();
      try {
        const scene = await setScene(server);
        const { baseUrl } = server;

        // Act and assert, role by role: enter the role, crawl its pages, send each form.
        const seen = new Set();
        const results = [];
        for (const role of scene.roles) {
          await browser.url(`${baseUrl}/`);
          await browser.deleteCookies();
          if (role.person) {
            const [name, value] = (await loginFromNode(baseUrl, role.person)).split('=');
            await browser.setCookies({ name, value, path: '/', httpOnly: true });
          }
          const crawled = (await page(browser, 'crawl', role.starts)).map((form) => ({ ...form, source: { path: form.page } }));
          if (role.afterLogin) {
            const source = { afterLogin: role.afterLogin };
            await openSource(browser, baseUrl, role, source);
            crawled.push(...(await page(browser, 'forms')).map((form) => ({ ...form, source })));
            await browser.deleteCookies();
          }
          const forms = crawled.filter((form) => !seen.has(form.key) && seen.add(form.key));
          for (const form of inSubmissionOrder(forms)) {
            // One form's failure does not hide the next ones': all are said at the end.
            const result = await sendValid(browser, baseUrl, scene, role, form).catch((error) => `FAILED: ${firstLine(error.message)}`);
            results.push({ key: form.key, result });
            console.log(`      ${role.who}: ${form.key}: ${result}`);
          }
        }

        const failed = results.filter((r) => r.result.startsWith('FAILED'));
        assert.equal(failed.length, 0, `every form sent with valid values says it worked; not these:\n${failed.map((r) => `${r.key}: ${r.result}`).join('\n')}`);
        const endpoints = new Set(results.map((r) => r.key.split(/[ []/)[0]));
        for (const expected of EXPECTED) assert.ok(endpoints.has(expected), `the crawl found no form posting to ${expected}`);
        const confirmed = new Set(results.filter((r) => !r.result.startsWith('not tried') && !r.result.startsWith('FAILED')).map((r) => r.key.split(/[ []/)[0]));
        const neverSent = EXPECTED.filter((e) => !confirmed.has(e));
        assert.deepEqual(neverSent, [], 'every kind of form was sent at least once');
        assertNoConsoleErrors(consoleErrors);
      } finally {
        server.stop();
      }
    },
  },
];
