import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `probe` until it returns something other than undefined/false and returns that; a probe
 * that throws ends the wait with its error. Waiting on a condition, never on a fixed delay.
 *
 * @template T
 * @param {() => T | Promise<T>} probe
 * @param {{ timeoutMs: number, intervalMs?: number, what: string, last?: () => string }} options
 * @returns {Promise<Exclude<T, undefined | false>>}
 */
export async function waitUntil(probe, options) {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() >= deadline) {
      const last = options.last ? `; last: ${options.last()}` : '';
      throw new Error(`gave up after ${options.timeoutMs} ms waiting for ${options.what}${last}`);
    }
    await sleep(options.intervalMs ?? 20);
  }
}
