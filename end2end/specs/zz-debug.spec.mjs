import { consoleErrors } from '../lib/console.mjs';
export default [{ name: 'DEBUG inscription', async run({ browser, baseUrl }) {
  const errors = await consoleErrors(browser);
  const logs = [];
  if (browser.isBidi) browser.on('log.entryAdded', (e) => logs.push(`${e.level}: ${e.text?.slice(0, 300)}`));
  for (const path of ['/inscription', '/connexion']) {
    await browser.url(baseUrl + path);
    const start = Date.now();
    let h = null;
    while (Date.now() - start < 12000) { h = await browser.execute(() => document.documentElement.dataset.hydrated); if (h) break; await new Promise(r => setTimeout(r, 200)); }
    console.log(path, 'hydrated:', h, 'after', Date.now() - start, 'ms');
    const res = await browser.execute(() => performance.getEntriesByType('resource').map(r => `${r.name} ${r.responseStatus ?? ''} ${Math.round(r.duration)}ms`));
    console.log(res.join('\n'));
  }
  console.log('errors', JSON.stringify(errors, null, 1).slice(0, 3000));
  console.log('logs', logs.join('\n').slice(0, 3000));
}}];
