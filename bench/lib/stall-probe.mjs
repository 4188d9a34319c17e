/**
 * The longest `GET /who-am-i` a plane answers while bulk work runs: one request after another
 * (each sent 10 ms after the last answer), so a block of the plane's event loop shows as one slow
 * answer as long as the block. `idleMs` measures the same on the plane at rest: the baseline.
 *
 * The requests go out from a worker thread of their own. On the benchmark's main thread they
 * would wait whenever the benchmark itself blocks (encoding the import's 49 MB body for fetch
 * alone takes longer than the target), and that wait would be counted as the plane's.
 */
import { Worker } from 'node:worker_threads';
import { round } from './stats.mjs';

const GAP_MS = 10;

/**
 * The worker: one request unmeasured (loading fetch and connecting would count as a stall of the
 * plane), then "ready", then probes `url` until told to stop and posts the longest answer and the count.
 */
const probeSource = `
const { parentPort, workerData: { url, token, gapMs } } = require('node:worker_threads');
let stopped = false;
parentPort.once('message', () => { stopped = true; });
const probe = async () => {
  try {
    const response = await fetch(url + '/who-am-i', { headers: { authorization: 'Bearer ' + token } });
    await response.arrayBuffer();
  } catch {}
};
(async () => {
  await probe();
  parentPort.postMessage('ready');
  let maxMs = 0;
  let samples = 0;
  while (!stopped) {
    const t = performance.now();
    await probe();
    maxMs = Math.max(maxMs, performance.now() - t);
    samples++;
    await new Promise((r) => setTimeout(r, gapMs));
  }
  parentPort.postMessage({ maxMs, samples });
})();
`;

/** Resolves once the probe runs; `stop()` ends it and gives the longest answer seen. */
export async function startStallProbe(url, token) {
  const worker = new Worker(probeSource, { eval: true, workerData: { url, token, gapMs: GAP_MS } });
  const next = () =>
    new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  await next();
  const result = next();
  return {
    async stop() {
      worker.postMessage('stop');
      const { maxMs, samples } = await result;
      await worker.terminate();
      return { maxMs: round(maxMs, 1), samples };
    },
  };
}

/** The same probe for `ms` with nothing else running. */
export async function idleMs(url, token, ms = 1_000) {
  const probe = await startStallProbe(url, token);
  await new Promise((r) => setTimeout(r, ms));
  return (await probe.stop()).maxMs;
}
