/**
 * The load generator for paired HTTP rounds, in its own process (started by `pairedLoadTest`):
 * runs autocannon on target A and target B alternately, `rounds` times each, and prints one JSON
 * line with every run's rate and the server's CPU per request over that run.
 *
 * Why one long-lived process instead of one autocannon CLI per run: the two sides of a pair can
 * then run back to back, a fraction of a second apart, so the ratio of each pair sees one moment
 * of a shared machine whose speed drifts from second to second.
 */
import autocannon from 'autocannon';
import { cpuMs } from './daemon.mjs';
import { successfulRequests } from './load.mjs';

const { targets, connections, seconds, rounds, serverPid } = JSON.parse(process.argv[2]);

function once(target) {
  return new Promise((resolve, reject) => {
    const before = cpuMs(serverPid);
    // sampleInt: autocannon checks for the end of a run on each sample tick (1 s by default).
    autocannon({ ...target, connections, duration: seconds, sampleInt: 50 }, (error, result) => {
      if (error) return reject(error);
      try {
        const requests = successfulRequests(result, target.method ?? 'GET', target.url);
        resolve({ perSecond: requests / result.duration, requests, serverCpuUs: ((cpuMs(serverPid) - before) * 1000) / requests });
      } catch (failure) {
        reject(failure);
      }
    });
  });
}

const runs = targets.map(() => []);
for (let round = 0; round < rounds; round++) {
  // The side that goes first alternates, so neither always follows the other's load.
  const order = round % 2 === 0 ? [0, 1] : [1, 0];
  for (const which of order) runs[which].push(await once(targets[which]));
}
process.stdout.write(`${JSON.stringify(runs)}\n`);
