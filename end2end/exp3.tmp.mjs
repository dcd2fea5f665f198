import { remote } from 'webdriverio';
import { ENGINES, resolveBinaries, startDriver } from './lib/engines.mjs';
const name = process.argv[2];
const e = ENGINES[name];
const d = await startDriver(e, resolveBinaries(e), '/tmp/e2e-dev/drv.log');
const { capabilities, cleanup } = e.capabilities();
const b = await remote({ hostname: '127.0.0.1', port: d.port, logLevel: 'error', capabilities });
try {
  await b.url('http://127.0.0.1:3777/');
  const t = (p, ms=3000) => Promise.race([p, new Promise(r => setTimeout(() => r('TIMEOUT'), ms))]);
  console.log('sync', await t(b.execute(() => 1 + 1)));
  console.log('microtask', await t(b.execute(() => Promise.resolve(7))));
  console.log('setTimeout', await t(b.execute(() => new Promise(r => setTimeout(() => r('fired'), 10)))));
  console.log('raf', await t(b.execute(() => new Promise(r => requestAnimationFrame(() => r('raf'))))));
  console.log('inline ran?', await t(b.execute(() => typeof window.__RESOLVED_RESOURCES)));
  console.log('href', await b.$('body > a').getAttribute('href'));
} catch (err) { console.log('ERR', err.message); }
await b.deleteSession().catch(() => {}); cleanup(); await d.stop();
