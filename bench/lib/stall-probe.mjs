/**
 * The longest `GET /who-am-i` a plane answers while bulk work runs: one request after another
 * (each sent 10 ms after the last answer), so a block of the plane's event loop shows as one slow
 * answer as long as the block. `idleMs` measures the same on the plane at rest: the baseline.
 */
import { call } from './http.mjs';
import { round } from './stats.mjs';

const GAP_MS = 10;

export function startStallProbe(url, token) {
  let stopped = false;
  let maxMs = 0;
  let samples = 0;
  const loop = (async () => {
    while (!stopped) {
      const t = performance.now();
      await call('GET', `${url}/who-am-i`, { token }).catch(() => undefined);
      maxMs = Math.max(maxMs, performance.now() - t);
      samples++;
      await new Promise((r) => setTimeout(r, GAP_MS));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { maxMs: round(maxMs, 1), samples };
    },
  };
}

/** The same probe for `ms` with nothing else running. */
export async function idleMs(url, token, ms = 1_000) {
  const probe = startStallProbe(url, token);
  await new Promise((r) => setTimeout(r, ms));
  return (await probe.stop()).maxMs;
}
