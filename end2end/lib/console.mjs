// Console errors seen by the page, through WebDriver BiDi.

/**
 * Starts collecting the page's console errors and uncaught exceptions (BiDi `log.entryAdded`
 * entries of level "error"). Call it before navigating. Returns a live array that fills as
 * entries arrive, each `{ type, text, location }`, or `null` where the session has no BiDi
 * (WebKitGTK): there, rely on the app's hydration marker instead.
 */
export async function consoleErrors(browser) {
  if (!browser.isBidi) return null;
  const errors = [];
  // WebdriverIO already subscribes to this event for its own use; subscribing again is harmless
  // and does not depend on that internal detail.
  await browser.sessionSubscribe({ events: ['log.entryAdded'] });
  browser.on('log.entryAdded', (entry) => {
    if (entry.level !== 'error') return;
    const frame = entry.stackTrace?.callFrames?.[0];
    errors.push({
      type: entry.type, // "console" or "javascript" (an uncaught exception)
      text: entry.text,
      location: frame ? `${frame.url}:${frame.lineNumber + 1}` : undefined,
    });
  });
  return errors;
}
