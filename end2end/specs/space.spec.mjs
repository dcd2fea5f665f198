// The beneficiary's space: a message with two attachments reaches the advisor with its unread
// count; a document is uploaded with a progress bar; a document the advisor asked for is
// answered. Each spec registers its own beneficiary; the advisor is the account scripts/test.sh
// creates (E2E_ADVISOR_*), logged in from Node and then in the browser.

import assert from 'node:assert/strict';
import {
  ADVISOR_PASSWORD,
  advisorCookie,
  assertNoConsoleErrors,
  button,
  fileToPick,
  formsReady,
  loginAs,
  newActiveAccount,
  open,
  pickFiles,
  settle,
  submitLogin,
  textOf,
  waitForPath,
  waitForText,
  watchConsole,
} from '../lib/app.mjs';
import { auditPage } from '../lib/axe.mjs';
import { waitFor } from '../lib/wait.mjs';

/** Watches the upload status area for a progress bar, however briefly it shows. */
async function watchProgress(browser) {
  await browser.execute(() => {
    window.__sawProgress = false;
    new MutationObserver(() => {
      if (document.querySelector('.upload-status progress')) window.__sawProgress = true;
    }).observe(document.body, { childList: true, subtree: true });
  });
}



/** The logged-in beneficiary's id, from the page's own server function. */
async function myId(browser, baseUrl) {
  const [cookie] = await browser.getCookies(['passerelle_session']);
  const response = await fetch(`${baseUrl}/api/space/me`, { method: 'POST', headers: { cookie: `passerelle_session=${cookie.value}`, origin: baseUrl } });
  return (await response.json()).user_id;
}

export default [
  {
    name: 'a message with two attachments reaches the advisor, who sees it unread in the header and in the inbox, and answers it',
    timeout: 240_000,
    run: async ({ browser, baseUrl, js }) => {
      const consoleErrors = await watchConsole(browser, js);
      const person = await newActiveAccount(browser, baseUrl, js);
      await loginAs(browser, baseUrl, js, person);
      const advisor = await advisorCookie(baseUrl);
      const subject = `Mon devis ${person.email.split('@')[0]}`;

      await open(browser, js, `${baseUrl}/messages`);
      await waitForText(browser, 'h1', 'Mes messages');
      await waitForText(browser, 'main', 'Taille maximale : 10 Mo par fichier.');
      await formsReady(browser, js, 'form.composer');
      if (js) {
        // An unsent message survives a reload: it is kept on this browser until it is sent.
        await browser.$('#nouveau-message').setValue('Brouillon à ne pas perdre');
        await open(browser, js, `${baseUrl}/messages`);
        await formsReady(browser, js, 'form.composer');
        await waitFor(async () => (await browser.$('#nouveau-message').getProperty('value')) === 'Brouillon à ne pas perdre', {
          message: 'the unsent message to come back after the reload',
        });
      }
      if (js) await auditPage(browser, 'Mes messages');
      await browser.$('#objet').setValue(subject);
      await browser.$('#nouveau-message').setValue('Bonjour, voici mon devis et mon CV.');
      await pickFiles(browser, '#nouveau-fichiers', [fileToPick('devis formation.pdf', 'pdf'), fileToPick('cv.png', 'png')]);
      await button(browser, 'Envoyer').click();
      await waitForText(browser, 'h1', subject);
      await settle(browser, js);
      await waitForText(browser, '.attachments', 'devis formation.pdf');
      await waitForText(browser, '.attachments', 'cv.png');
      await waitForText(browser, '[role="status"]', 'Message envoyé.');

      const inbox = await (await advisor('staff/messages/threads', {})).json();
      const thread = inbox.find((t) => t.subject === subject);
      assert.ok(thread, 'the thread is in the advisor inbox');
      assert.equal(thread.unread, 1, 'one unread message for the advisor');

      await browser.deleteCookies();
      await submitLogin(browser, baseUrl, js, process.env.E2E_ADVISOR_EMAIL, ADVISOR_PASSWORD);
      await waitForPath(browser, '/conseiller');
      await settle(browser, js);
      // The header's link (a page load here could abort the loading of this page's code).
      await waitForText(browser, '.account-links', /Messages \d+ non lus?/);
      await (await browser.$('.account-links a')).click();
      await waitForPath(browser, '/conseiller/messages');
      const row = await browser.$(`//tr[td/a[normalize-space()="${subject}"]]`);
      await waitFor(() => row.isExisting(), { message: 'the thread row in the advisor inbox' });
      assert.match(await textOf(row), /1 non lu/);
      const threadLink = await browser.$(`//a[normalize-space()="${subject}"]`).getAttribute('href');
      await open(browser, js, new URL(threadLink, baseUrl).href);
      await waitForText(browser, 'h1', subject);
      await waitForText(browser, '.attachments', 'devis formation.pdf');
      await waitForText(browser, '.message-body', 'voici mon devis et mon CV');

      // The advisor answers; the person finds the answer, announced in the header.
      await formsReady(browser, js, 'form.composer');
      await browser.$('#reponse-message').setValue('Bien reçu, merci.');
      await button(browser, 'Envoyer').click();
      await waitForText(browser, '.messages', 'Bien reçu, merci.');
      // The thread has reloaded with the answer: the confirmation is still said.
      await waitForText(browser, '[role="status"]', 'Message envoyé.');
      await browser.deleteCookies();
      await loginAs(browser, baseUrl, js, person);
      await waitForText(browser, '.account-links', /^Messages 1 non lu(?!s)/);
      await open(browser, js, new URL(threadLink.replace('/conseiller', ''), baseUrl).href);
      await waitForText(browser, '.messages', 'Bien reçu, merci.');
      assertNoConsoleErrors(consoleErrors);
    },
  },
  {
    name: 'a document is uploaded with a progress bar, and the document the advisor asked for is answered',
    timeout: 240_000,
    run: async ({ browser, baseUrl, js }) => {
      const consoleErrors = await watchConsole(browser, js);
      const person = await newActiveAccount(browser, baseUrl, js);
      await loginAs(browser, baseUrl, js, person);
      const advisor = await advisorCookie(baseUrl);
      const asked = await advisor('staff/documents/request', {
        beneficiary_id: await myId(browser, baseUrl),
        category: 'autorisation_absence',
        note: "Signée par votre employeur",
        due_date: '15/01/2027',
      });
      assert.equal(asked.status, 200, `the advisor asks for a document (${await asked.text()})`);

      await open(browser, js, `${baseUrl}/documents`);
      await waitForText(browser, 'h1', 'Mes documents');
      await waitForText(browser, '.request', 'Signée par votre employeur');
      await waitForText(browser, '.request', 'à déposer avant le 15/01/2027');
      await formsReady(browser, js, '.request form');
      if (js) await auditPage(browser, 'Mes documents');
      if (js) await watchProgress(browser);
      const requestInput = await browser.$('.request input[type="file"]');
      await pickFiles(browser, `#${await requestInput.getAttribute('id')}`, [fileToPick('autorisation.pdf', 'pdf')]);
      await (await browser.$('.request button')).click();
      await waitForText(browser, 'main', 'Demandes satisfaites');
      await waitForText(browser, 'table.documents', 'autorisation.pdf');
      // The list has reloaded with the new document: the confirmation is still said, announced.
      const said = await browser.$$('[role="status"]');
      const texts = [];
      for (const element of said) texts.push(await textOf(element));
      assert.ok(texts.some((t) => t.includes('Document bien reçu.')), `the confirmation stays after the list reloads: ${JSON.stringify(texts)}`);
      if (js) assert.equal(await browser.execute(() => window.__sawProgress), true, 'a progress bar showed during the upload');

      const download = await browser.$('//a[normalize-space()="autorisation.pdf"]');
      assert.match(await download.getAttribute('href'), /\/fichiers\/[0-9a-f-]+$/);
      const documents = await (await advisor('staff/documents', { beneficiary_id: await myId(browser, baseUrl) })).json();
      assert.equal(documents.requests[0].received, true, 'the advisor sees the request answered');
      assertNoConsoleErrors(consoleErrors);
    },
  },
  {
    name: 'the profile says how complete it is, saves what is typed, and offers the personal-data export',
    timeout: 180_000,
    run: async ({ browser, baseUrl, js }) => {
      const consoleErrors = await watchConsole(browser, js);
      const person = await newActiveAccount(browser, baseUrl, js);
      await loginAs(browser, baseUrl, js, person);

      await open(browser, js, `${baseUrl}/profil`);
      await waitForText(browser, 'h1', 'Mon profil et mes données');
      // The phone given at registration is already there: 1 field of 9.
      await waitForText(browser, '#completude', 'Profil complété à 11 %');
      if (js) await auditPage(browser, 'Mon profil');
      await browser.$('#profil-postal_code').setValue('69003');
      await browser.$('#profil-city').setValue('Lyon');
      await button(browser, 'Enregistrer mon profil').click();
      await waitForText(browser, 'main', 'Profil enregistré : complété à 33 %.');

      const href = await browser.$('//a[starts-with(normalize-space(), "Télécharger mes données")]').getAttribute('href');
      const [cookie] = await browser.getCookies(['passerelle_session']);
      const zip = await fetch(new URL(href, baseUrl), { headers: { cookie: `passerelle_session=${cookie.value}` } });
      assert.equal(zip.status, 200);
      assert.equal(zip.headers.get('content-type'), 'application/zip');
      const bytes = Buffer.from(await zip.arrayBuffer());
      assert.equal(bytes.subarray(0, 2).toString(), 'PK', 'a ZIP archive');
      assertNoConsoleErrors(consoleErrors);
    },
  },
];
