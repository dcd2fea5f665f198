// A private release server for a spec whose submissions change what every account of the shared
// server would see (a new version of the terms, merged accounts, closed sessions): its own
// SQLite file, files folder and development mailbox, from the binary `scripts/test.sh` built
// (`cargo leptos build --release --split`), stopped at the end of the spec.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { freePort } from './engines.mjs';
import { waitFor } from './wait.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BINARY = path.join(ROOT, 'target/release/passerelle');

/** Starts the server; returns `{ baseUrl, createStaff(email, name, role), stop() }`. */
export async function startPrivateServer() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passerelle-e2e-server-'));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    PASSERELLE_CONFIG: '/dev/null',
    PASSERELLE_SERVER_LISTEN: `127.0.0.1:${port}`,
    PASSERELLE_SERVER_BASE_URL: baseUrl,
    PASSERELLE_DATABASE_URL: `sqlite://${dir}/passerelle.db`,
    PASSERELLE_STORAGE_FILES_DIR: `${dir}/files`,
    PASSERELLE_ACCOUNTS_REGISTRATIONS_PER_IP_PER_HOUR: '100000',
    PASSERELLE_ACCOUNTS_LOGIN_FAILURES_PER_IP_PER_HOUR: '100000',
    PASSERELLE_ACCOUNTS_LOGIN_FAILURES_PER_HOUR: '100000',
    LEPTOS_SITE_ROOT: path.join(ROOT, 'target/site'),
    LEPTOS_OUTPUT_NAME: 'passerelle',
  };
  const log = fs.openSync(path.join(dir, 'server.log'), 'w');
  const child = spawn(BINARY, ['serve'], { cwd: ROOT, env, stdio: ['ignore', log, log] });
  let exited = null;
  child.on('exit', (code) => {
    exited = code;
  });
  const stop = () => {
    process.removeListener('exit', stop);
    if (exited === null) child.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  // A spec that times out never reaches its own `stop`: the runner's exit does.
  process.once('exit', stop);
  try {
    await waitFor(
      async () => {
        if (exited !== null) throw new Error(`the private server stopped (${exited}): ${fs.readFileSync(path.join(dir, 'server.log'), 'utf8')}`);
        return fetch(`${baseUrl}/healthz`).then((r) => r.ok, () => false);
      },
      { timeout: 30_000, message: `the private server at ${baseUrl} (${BINARY})` },
    );
  } catch (error) {
    stop();
    throw error;
  }
  /** A staff account made by the real command; returns its password set-up link. */
  const createStaff = (email, name, role) => {
    const run = spawnSync(BINARY, ['admin', 'create', '--email', email, '--name', name, '--role', role], { cwd: ROOT, env, encoding: 'utf8' });
    const link = `${run.stdout}${run.stderr}`.match(/http\S*\/mot-de-passe\/nouveau\/\S+/)?.[0];
    if (!link) throw new Error(`passerelle admin create ${email} printed no set-up link: ${run.stdout}${run.stderr}`);
    return link;
  };
  return { baseUrl, createStaff, stop };
}
