// The advisors' dashboard: the phone platform finds a person, checks the address they typed,
// corrects it and resends the activation link; two accounts of one person are merged with four
// eyes (one proposes, another approves) and the person finds both histories; the phone platform
// opens a person outside its scope after giving the reason; a processed deletion. The staff are the accounts
// scripts/test.sh creates: an advisor (E2E_ADVISOR_*) and a member of the accueil service
// (E2E_RECEPTION_*).

import assert from 'node:assert/strict';

import {
  ADVISOR_PASSWORD,
  ACTIVATION_SUBJECT,
  BAD_CREDENTIALS,
  activateFromEmail,
  assertNoConsoleErrors,
  button,
  loginAs,
  masked,
  newActiveAccount,
  newPerson,
  open,
  register,
  settle,
  staffFromEnv,
  submitLogin,
  textOf,
  waitForEmails,
  waitForPath,
  waitForText,
  watchConsole,
} from '../lib/app.mjs';
import { auditPage } from '../lib/axe.mjs';
import { waitFor } from '../lib/wait.mjs';

/** Letters only, for a family name nobody else in the test database has. */
const uniqueName = () => `Dupré${Array.from({ length: 7 }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join('')}`;

/** Logs a staff member (`ADVISOR` or `RECEPTION`, see staffFromEnv) in through the login page and waits for the dashboard. */
async function staffLogsIn(browser, baseUrl, js, who = 'ADVISOR') {
  await staffFromEnv(baseUrl, who); // sets the password on first use
  await browser.deleteCookies();
  await submitLogin(browser, baseUrl, js, process.env[`E2E_${who}_EMAIL`], ADVISOR_PASSWORD);
  await waitForPath(browser, '/conseiller');
  await settle(browser, js);
  await waitForText(browser, 'h1', 'Espace conseiller');
}
const advisorLogsIn = (browser, baseUrl, js) => staffLogsIn(browser, baseUrl, js, 'ADVISOR');

/** Fills and submits one support action form of the person's page. */
async function supportAction(browser, code, reason, value) {
  const form = `form[data-action="${code}"]`;
  if (value !== undefined) await browser.$(`${form} [name="value"]`).setValue(value);
  await browser.$(`${form} [name="reason"]`).setValue(reason);
  await (await browser.$(`${form} button`)).click();
}

export default [
  {
    name: 'the phone platform finds a person, checks the address they typed, corrects it and resends the activation link',
    timeout: 240_000,
    run: async ({ browser, baseUrl, js }) => {
      const consoleErrors = await watchConsole(browser, js);
      const person = { ...newPerson(), birthName: uniqueName() };
      const rightAddress = person.email;
      person.email = rightAddress.replace('@exemple.fr', '@exemple.ft');
      await register(browser, baseUrl, js, person);
      await waitForEmails(baseUrl, person.email, ACTIVATION_SUBJECT);

      // The person calls: the advisor searches by name, without the accent, in capitals.
      await advisorLogsIn(browser, baseUrl, js);
      const search = person.birthName.replace('é', 'e').toUpperCase();
      await browser.$('#q').setValue(search);
      await button(browser, 'Rechercher').click();
      await waitForPath(browser, '/conseiller', { search: /q=/ });
      await settle(browser, js);
      const link = await browser.$(`//table[@id="resultats"]//a[contains(normalize-space(), "${person.birthName}")]`);
      await waitFor(() => link.isExisting(), { message: 'the person in the results' });
      if (js) await auditPage(browser, 'Espace conseiller');
      await link.click();
      await waitFor(async () => new URL(await browser.getUrl()).pathname.startsWith('/conseiller/beneficiaires/'), {
        message: "the person's page",
      });
      await settle(browser, js);
      await waitForText(browser, 'h1', `${person.firstName} ${person.birthName}`);
      await waitForText(browser, 'main', 'Non activé');
      // Every email sent, with the address typed: the advisor sees the mistake.
      await waitForText(browser, 'section[aria-labelledby="courriels"]', person.email);
      await waitForText(browser, 'section[aria-labelledby="courriels"]', ACTIVATION_SUBJECT);
      if (js) await auditPage(browser, 'Fiche bénéficiaire');

      await supportAction(browser, 'corriger_adresse', 'Appel : faute de frappe dans le domaine', rightAddress);
      await waitForText(browser, '[role="status"]', `L'adresse est maintenant ${rightAddress}`);
      await settle(browser, js);
      await waitForText(browser, 'section[aria-labelledby="identite"]', rightAddress);
      await supportAction(browser, 'renvoyer_activation', "Confirmation à la demande de la personne");
      await waitForText(browser, '[role="status"]', `Un nouveau lien d'activation a été envoyé à ${rightAddress}`);
      await settle(browser, js);
      await waitForText(browser, 'section[aria-labelledby="journal"]', 'Adresse électronique corrigée');
      await waitForText(browser, 'section[aria-labelledby="journal"]', 'Lien d\'activation renvoyé');

      // The person activates from the newest email at the right address and logs in.
      await browser.deleteCookies();
      person.email = rightAddress;
      await waitForEmails(baseUrl, rightAddress, ACTIVATION_SUBJECT, 2);
      await activateFromEmail(browser, baseUrl, js, rightAddress);
      await loginAs(browser, baseUrl, js, person);
      assertNoConsoleErrors(consoleErrors);
    },
  },
  {
    name: 'two accounts of one person are merged from the duplicates queue, and the person logs in and finds both histories',
    timeout: 300_000,
    run: async ({ browser, baseUrl, js }) => {
      const consoleErrors = await watchConsole(browser, js);
      const first = newPerson();
      first.birthName = uniqueName();
      const older = await newActiveAccount(browser, baseUrl, js, { person: first });
      const second = { ...newPerson(), civility: older.civility, firstName: older.firstName, birthName: older.birthName, birthDate: older.birthDate };
      const newer = await newActiveAccount(browser, baseUrl, js, { person: second });
      // A message from each account.
      for (const [who, subject] of [[older, 'Depuis mon premier compte'], [newer, 'Depuis mon second compte']]) {
        await browser.deleteCookies();
        await loginAs(browser, baseUrl, js, who);
        await open(browser, js, `${baseUrl}/messages`);
        await waitForText(browser, 'h1', 'Mes messages');
        if (js) {
          await waitFor(async () => (await browser.$('form.composer').getAttribute('data-ready')) === 'on', {
            timeout: 20_000,
            message: 'the message form to be handled by the page',
          });
        }
        await browser.$('#objet').setValue(subject);
        await browser.$('#nouveau-message').setValue('Bonjour.');
        await button(browser, 'Envoyer').click();
        await waitForText(browser, 'h1', subject);
      }

      await advisorLogsIn(browser, baseUrl, js);
      await (await browser.$('nav.staff-nav a[href="/conseiller/doublons"]')).click();
      await waitForPath(browser, '/conseiller/doublons');
      await settle(browser, js);
      const prepare = await browser.$(`//a[normalize-space()="Préparer la fusion de ${newer.email} dans le premier compte"]`);
      await waitFor(() => prepare.isExisting(), { message: 'the two accounts in the duplicates queue' });
      if (js) await auditPage(browser, 'Doublons');
      const group = await prepare.$('./ancestor::article');
      assert.match(await textOf(group), new RegExp(older.email.replace(/[.]/g, '\\.')), 'the older account is in the group');
      await open(browser, js, new URL(await prepare.getAttribute('href'), baseUrl).href);
      await waitForText(browser, 'h1', 'Fusion de deux comptes');
      await waitForText(browser, '.merge-moves', 'Fils de messages : 1');
      // Two NIRs: the advisor proposes, and a second staff member approves (four eyes).
      await waitForText(browser, 'main', 'ne portent pas la même identité');
      await browser.$('#raison-fusion').setValue('Même personne : identité vérifiée par téléphone');
      await button(browser, 'Proposer la fusion').click();
      await waitForText(browser, '[role="status"]', 'La fusion est proposée');

      await staffLogsIn(browser, baseUrl, js, 'RECEPTION');
      await open(browser, js, `${baseUrl}/conseiller/doublons`);
      await settle(browser, js);
      const examine = await browser.$(`//a[normalize-space()="Examiner la fusion de ${newer.email} dans ${older.email}"]`);
      await waitFor(() => examine.isExisting(), { message: 'the proposal waiting in the duplicates queue' });
      await open(browser, js, new URL(await examine.getAttribute('href'), baseUrl).href);
      await waitForText(browser, 'main', 'Fusion proposée par Alex Conseil');
      await browser.$('#raison-fusion').setValue('Vérifié : le NIR du second compte était mal saisi');
      await button(browser, 'Approuver et fusionner').click();
      await waitForText(browser, '[role="status"]', 'Les comptes sont fusionnés');

      // The closed account says where everything went; the kept one has both histories.
      await browser.deleteCookies();
      await submitLogin(browser, baseUrl, js, newer.email, newer.password);
      await waitForText(browser, '[role="alert"]', `Ce compte a été regroupé avec un autre`);
      await waitForText(browser, '[role="alert"]', masked(older.email));
      await loginAs(browser, baseUrl, js, older);
      await open(browser, js, `${baseUrl}/messages`);
      await waitForText(browser, 'table.threads', 'Depuis mon premier compte');
      await waitForText(browser, 'table.threads', 'Depuis mon second compte');
      assert.ok((await waitForEmails(baseUrl, older.email, 'Vos comptes Passerelle sont regroupés')).length >= 1);
      assert.ok((await waitForEmails(baseUrl, newer.email, 'Votre compte Passerelle est regroupé avec un autre')).length >= 1);
      assertNoConsoleErrors(consoleErrors);
    },
  },
  {
    name: "the phone platform opens a person outside its scope only after giving the reason, which the trail keeps",
    timeout: 240_000,
    run: async ({ browser, baseUrl, js }) => {
      const consoleErrors = await watchConsole(browser, js);
      const person = await newActiveAccount(browser, baseUrl, js, { person: { ...newPerson(), birthName: uniqueName() } });
      // The advisor becomes her referent: she is outside the phone platform's scope.
      const advisor = await staffFromEnv(baseUrl, 'ADVISOR');
      const me = await (await advisor.post('staff/me', {})).json();
      const found = await (await advisor.post('staff/beneficiaries', { q: person.email })).json();
      assert.equal(found.rows.length, 1, `the advisor finds ${person.email}`);
      const id = found.rows[0].id;
      const assigned = await advisor.post('staff/support', { id, action: 'attribuer_referent', reason: 'Premier rendez-vous', value: me.user_id });
      assert.equal(assigned.status, 200, await assigned.text());

      await staffLogsIn(browser, baseUrl, js, 'RECEPTION');
      await open(browser, js, `${baseUrl}/conseiller/beneficiaires/${id}`);
      await settle(browser, js);
      await waitForText(browser, 'main', 'ne fait pas partie de vos dossiers');
      if (js) await auditPage(browser, 'Fiche bénéficiaire');
      await (await browser.$('label[for="motif-appel_entrant"]')).click();
      await browser.$('#precision').setValue('La personne appelle pour son dossier');
      await button(browser, 'Ouvrir la fiche').click();
      await waitForText(browser, 'h1', `${person.firstName} ${person.birthName}`);
      await waitForText(browser, 'main', 'Accès exceptionnel : Appel entrant : La personne appelle pour son dossier');
      await waitForText(browser, 'section[aria-labelledby="journal"]', 'Accès exceptionnel à un dossier');
      assertNoConsoleErrors(consoleErrors);
    },
  },
  {
    name: "a person asks for their account's deletion, an advisor processes it, and nothing of theirs opens any more",
    timeout: 240_000,
    run: async ({ browser, baseUrl, js }) => {
      const consoleErrors = await watchConsole(browser, js);
      const person = await newActiveAccount(browser, baseUrl, js, { person: { ...newPerson(), birthName: uniqueName() } });
      await loginAs(browser, baseUrl, js, person);
      await open(browser, js, `${baseUrl}/profil`);
      await settle(browser, js);
      await button(browser, 'Demander la suppression de mon compte').click();
      await waitForText(browser, '[role="status"]', 'Demande de suppression envoyée');

      const advisor = await staffFromEnv(baseUrl, 'ADVISOR');
      const found = await (await advisor.post('staff/beneficiaries', { q: person.email })).json();
      assert.equal(found.rows.length, 1, `the advisor finds ${person.email}`);
      await staffLogsIn(browser, baseUrl, js, 'ADVISOR');
      await open(browser, js, `${baseUrl}/conseiller/beneficiaires/${found.rows[0].id}`);
      await settle(browser, js);
      await waitForText(browser, 'section[aria-labelledby="suppression"]', 'Suppression du compte demandée');
      await browser.$('#raison-suppression').setValue('Demande faite depuis son espace, aucun dossier en cours');
      await button(browser, 'Supprimer définitivement les données').click();
      await waitForText(browser, '[role="status"]', 'Le compte est supprimé');
      await waitForText(browser, 'h1', 'Personne supprimée');

      await browser.deleteCookies();
      await submitLogin(browser, baseUrl, js, person.email, person.password);
      await waitForText(browser, '[role="alert"]', BAD_CREDENTIALS);
      assertNoConsoleErrors(consoleErrors);
    },
  },
];
