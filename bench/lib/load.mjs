import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './daemon.mjs';

const autocannon = join(repoRoot, 'node_modules/autocannon/autocannon.js');
const pairedWorker = join(repoRoot, 'bench/lib/paired-load-worker.mjs');

/** The 2xx count of an autocannon result; throws if any answer was not 2xx or any socket failed. */
export function successfulRequests(result, method, url) {
  if (result.non2xx + result.errors + result.timeouts > 0) {
    throw new Error(`autocannon ${method} ${url}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`);
  }
  return result['2xx'];
}

/**
 * Drives `url` with autocannon in its own process (so the load generator never shares an event
 * loop with the server or the benchmark), and returns successful requests per second. Any non-2xx
 * answer or socket error fails the run: a fast 401 must never pass for a fast 200.
 */
export function loadTest(url, { connections, seconds, method = 'GET', headers = {}, body }) {
  const args = [autocannon, '-j', '-n', '-c', String(connections), '-d', String(seconds), '-m', method];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}=${v}`);
  if (body !== undefined) args.push('-b', body);
  args.push(url);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 16 * 1024 * 1024, timeout: (seconds + 60) * 1000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`autocannon ${url}: ${error.message}\n${stderr}`));
      let result;
      try {
        result = JSON.parse(stdout.trim().split('\n').pop());
      } catch {
        return reject(new Error(`autocannon ${url}: unreadable output: ${stdout.slice(0, 500)}`));
      }
      try {
        const requests = successfulRequests(result, method, url);
        resolve({ perSecond: requests / result.duration, requests, latencyP99Ms: result.latency.p99 });
      } catch (failure) {
        reject(failure);
      }
    });
  });
}

/**
 * Drives two targets (`{ url, method?, headers?, body? }`) with autocannon in one other process,
 * alternately, `rounds` runs of `seconds` each, and returns each target's runs: requests per
 * second and `serverPid`'s CPU per request. Any non-2xx answer or socket error fails it.
 */
export function pairedLoadTest(targetA, targetB, { connections, seconds, rounds, serverPid }) {
  const job = JSON.stringify({ targets: [targetA, targetB], connections, seconds, rounds, serverPid });
  const timeout = (rounds * 2 * (seconds + 1) + 60) * 1000;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [pairedWorker, job], { maxBuffer: 16 * 1024 * 1024, timeout }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`paired load on ${targetA.url} and ${targetB.url}: ${error.message}\n${stderr}`));
      try {
        const [a, b] = JSON.parse(stdout.trim().split('\n').pop());
        resolve({ a, b });
      } catch {
        reject(new Error(`paired load: unreadable output: ${stdout.slice(0, 500)}`));
      }
    });
  });
}
