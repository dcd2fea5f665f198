// Benchmark, not a test: how long the robot check's proof of work keeps a person waiting, from
// ticking "Je ne suis pas un robot" to "Vérification réussie." (challenge fetched, solved slice by
// slice in WebAssembly). Timed inside the page (performance.now()), 20 ticks per engine.
//
//   target/release/passerelle serve            (release build, default robot_difficulty)
//   cd end2end && node run.mjs --base-url http://127.0.0.1:3000 --specs ../bench \
//       --engines chromium,firefox,webkit
//
// Results go in bench/README.md. Not part of `make test`.

import { open } from '../end2end/lib/app.mjs';

const TICKS = 20;

/** Ticks the box and resolves with the milliseconds until the check reports success. */
const tickAndTime = (browser) =>
  browser.execute(
    () =>
      new Promise((resolve, reject) => {
        const box = document.getElementById('robot-case');
        const status = document.getElementById('robot-etat');
        if (box.checked) box.click();
        const started = performance.now();
        const observer = new MutationObserver(() => {
          if (status.textContent.includes('Vérification réussie.')) {
            observer.disconnect();
            resolve(performance.now() - started);
          } else if (status.textContent.includes('échoué')) {
            observer.disconnect();
            reject(new Error(status.textContent));
          }
        });
        observer.observe(status, { childList: true, subtree: true, characterData: true });
        box.click();
      }),
  );

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

export default [
  {
    name: 'robot check: time from tick to success',
    timeout: 300_000,
    skip: ({ js }) => !js && 'the proof of work needs JavaScript',
    run: async ({ browser, baseUrl, engine }) => {
      await open(browser, true, `${baseUrl}/inscription`);
      const times = [];
      for (let i = 0; i < TICKS; i += 1) times.push(await tickAndTime(browser));
      times.sort((a, b) => a - b);
      const ms = (value) => `${Math.round(value)} ms`;
      console.log(
        `    ${engine}: ${TICKS} ticks — median ${ms(quantile(times, 0.5))}, p90 ${ms(quantile(times, 0.9))}, max ${ms(times.at(-1))}`,
      );
    },
  },
];
