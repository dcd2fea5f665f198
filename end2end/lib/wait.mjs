// Polling instead of fixed sleeps.

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `fn` until it returns a truthy value, and returns that value. An error thrown by `fn`
 * ends the wait at once (so `fn` can report a state that will never change).
 * Throws "timed out after …ms waiting for <message>" after `timeout` ms; `message` may be a
 * function, called then, to describe the state at that moment.
 */
export async function waitFor(fn, { timeout = 10_000, interval = 100, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() >= deadline) break;
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())));
  }
  const what = typeof message === 'function' ? message() : message;
  throw new Error(`timed out after ${timeout} ms waiting for ${what} (last value: ${describe(last)})`);
}

function describe(value) {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
