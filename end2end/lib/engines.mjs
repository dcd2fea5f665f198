// Browser engines and their WebDriver servers.
//
// Every engine is driven through W3C WebDriver (see shared/BROWSERS.md): the runner starts the
// engine's driver itself on a free port, waits until its /status answers, opens one WebdriverIO
// session per spec, and stops the driver (and, for WebKit, its Xvfb) at the end.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { waitFor } from './wait.mjs';

const CHROMIUM_BINARY = '/usr/bin/chromium';
const FIREFOX_BINARY = '/usr/bin/firefox-esr';
const MINIBROWSER_BINARY = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

// Chromium flags that keep it quiet on a machine without internet access (without the
// background-networking ones it floods the closed network with refused connections).
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--window-size=1280,1024',
];

const chromium = (js) => ({
  family: 'chromium',
  js,
  driver: { name: 'chromedriver', extraDirs: [] },
  browserBinary: CHROMIUM_BINARY,
  driverArgs: (port) => [`--port=${port}`],
  // Each session gets a fresh profile; `cleanup` removes it after the session.
  capabilities() {
    const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'passerelle-e2e-chromium-'));
    const args = [...CHROMIUM_ARGS, `--user-data-dir=${userDataDir}`];
    if (!js) args.push('--blink-settings=scriptEnabled=false');
    return {
      capabilities: {
        browserName: 'chrome',
        'goog:chromeOptions': { binary: CHROMIUM_BINARY, args },
      },
      cleanup: () => fs.rmSync(userDataDir, { recursive: true, force: true }),
    };
  },
});

const firefox = (js) => ({
  family: 'firefox',
  js,
  // `cargo install geckodriver` puts it in ~/.cargo/bin, which may not be on PATH.
  driver: { name: 'geckodriver', extraDirs: [path.join(os.homedir(), '.cargo', 'bin')] },
  browserBinary: FIREFOX_BINARY,
  // `--websocket-port 0`: let Firefox pick a free BiDi port instead of the default 9222.
  driverArgs: (port) => ['--host', '127.0.0.1', '--port', String(port), '--websocket-port', '0'],
  // geckodriver creates (and deletes) a fresh temporary profile for each session itself.
  capabilities() {
    const prefs = {};
    if (!js) prefs['javascript.enabled'] = false;
    return {
      capabilities: {
        browserName: 'firefox',
        'moz:firefoxOptions': {
          binary: FIREFOX_BINARY,
          args: ['-headless', '-width=1280', '-height=1024'],
          prefs,
        },
      },
      cleanup: () => {},
    };
  },
});

const webkit = () => ({
  family: 'webkit',
  js: true,
  driver: { name: 'WebKitWebDriver', extraDirs: [] },
  browserBinary: MINIBROWSER_BINARY,
  // WebKitGTK has no headless mode: its driver (and so MiniBrowser) runs inside a virtual X
  // server. Without WEBKIT_SKIA_ENABLE_CPU_RENDERING screenshots come out white.
  wrapper: { name: 'xvfb-run', args: ['-a', '-s', '-screen 0 1280x1024x24'] },
  env: { WEBKIT_SKIA_ENABLE_CPU_RENDERING: '1' },
  driverArgs: (port) => [`--port=${port}`],
  capabilities() {
    return {
      capabilities: {
        browserName: 'MiniBrowser',
        // WebKitGTK speaks no WebDriver BiDi: without this WebdriverIO would ask for it.
        'wdio:enforceWebDriverClassic': true,
        'webkitgtk:browserOptions': { binary: MINIBROWSER_BINARY, args: ['--automation'] },
      },
      cleanup: () => {},
    };
  },
});

export const ENGINES = {
  chromium: chromium(true),
  firefox: firefox(true),
  webkit: webkit(),
  'chromium-nojs': chromium(false),
  'firefox-nojs': firefox(false),
};

/** Finds an executable by name on PATH, then in `extraDirs`; returns its path or null. */
export function findExecutable(name, extraDirs = []) {
  const dirs = [...(process.env.PATH || '').split(path.delimiter).filter(Boolean), ...extraDirs];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not there: try the next directory
    }
  }
  return null;
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks that every binary an engine needs exists. Returns `{ driverPath, wrapperPath }`, or
 * throws an error naming each missing binary.
 */
export function resolveBinaries(engine) {
  const missing = [];
  const driverPath = findExecutable(engine.driver.name, engine.driver.extraDirs);
  if (!driverPath) {
    const where = ['PATH', ...engine.driver.extraDirs].join(', ');
    missing.push(`driver "${engine.driver.name}" (looked in ${where})`);
  }
  let wrapperPath = null;
  if (engine.wrapper) {
    wrapperPath = findExecutable(engine.wrapper.name);
    if (!wrapperPath) missing.push(`"${engine.wrapper.name}" (not on PATH)`);
  }
  if (!isExecutable(engine.browserBinary)) missing.push(`browser "${engine.browserBinary}"`);
  if (missing.length > 0) throw new Error(`missing binary: ${missing.join('; ')}`);
  return { driverPath, wrapperPath };
}

/** Asks the OS for a free TCP port on the loopback interface. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Direct children of a process, read from /proc (Linux). */
function childPids(pid) {
  const children = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name is in parentheses and may itself contain spaces or parentheses.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid) children.push(Number(entry));
    } catch {
      // the process ended while we were reading
    }
  }
  return children;
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}

/**
 * Starts an engine's WebDriver server on a free port and waits until its /status answers.
 * Returns `{ port, stop }`; the driver's output goes to `logFile`.
 */
export async function startDriver(engine, { driverPath, wrapperPath }, logFile) {
  const port = await freePort();
  const driverCommand = [driverPath, ...engine.driverArgs(port)];
  const [command, ...args] = wrapperPath
    ? [wrapperPath, ...engine.wrapper.args, ...driverCommand]
    : driverCommand;

  const log = fs.openSync(logFile, 'w');
  // `detached` puts the driver in its own process group, so that stopping it also stops the
  // browsers it started, even if a session was left open.
  const child = spawn(command, args, {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, ...engine.env },
  });
  fs.closeSync(log);

  let exit = null;
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      resolve();
    });
    child.on('error', (error) => {
      exit = { error };
      resolve();
    });
  });

  async function stop() {
    if (exit) return;
    if (wrapperPath) {
      // Stop the driver inside xvfb-run first: xvfb-run then stops its Xvfb and removes its
      // temporary files itself, which it would not do if it were killed.
      for (const pid of childPids(child.pid)) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    } else {
      signalGroup(child.pid, 'SIGTERM');
    }
    const timeout = new Promise((resolve) => setTimeout(resolve, 5000).unref());
    await Promise.race([exited, timeout]);
    // Whatever is left of the group (a stuck browser, or xvfb-run that did not exit) is killed.
    signalGroup(child.pid, exit ? 'SIGTERM' : 'SIGKILL');
  }

  const statusUrl = `http://127.0.0.1:${port}/status`;
  try {
    await waitFor(
      async () => {
        if (exit) {
          const tail = fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n');
          const how = exit.error ? exit.error.message : `exit code ${exit.code}, signal ${exit.signal}`;
          throw new Error(`${engine.driver.name} exited during start-up (${how}):\n${tail}`);
        }
        try {
          const response = await fetch(statusUrl, { signal: AbortSignal.timeout(1000) });
          if (!response.ok) return false;
          const body = await response.json();
          return body?.value?.ready !== false;
        } catch {
          return false; // not listening yet
        }
      },
      { timeout: 30_000, interval: 100, message: `${engine.driver.name} to answer ${statusUrl}` },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, stop };
}
