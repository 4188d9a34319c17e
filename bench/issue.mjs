/**
 * Issuing: `POST /tokens/user` per second on a global-cp in its own process (autocannon in
 * another), against raw `crypto.sign('sha256', …)` RS256 per second with a 2048-bit key like
 * global's, in the same rounds.
 *
 * The ratio's baseline is crypto.sign called in a loop, as verify-cold's is crypto.verify in a
 * loop: what one thread signs per second. The issuer signs on libuv's thread pool, so it can beat
 * that; the rate of crypto.sign with several signatures in flight on every core (while no HTTP
 * server and no load generator share those cores) is reported beside it, as is server CPU per
 * token against CPU per bare signature.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { encodeSigningInput } from '@meshauth/core';
import { cpuMs, startDaemon, stopAllDaemons } from './lib/daemon.mjs';
import { readAdminToken } from './lib/http.mjs';
import { loadTest } from './lib/load.mjs';
import { progress, runIfMain } from './lib/standalone.mjs';
import { median, pairedRounds, ratePerSecond, round } from './lib/stats.mjs';

const IN_FLIGHT = 16;

/** Signs continuously with IN_FLIGHT signatures outstanding for `seconds`; returns signatures/s. */
function parallelSignRate(seconds, input, privateKey) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const deadline = start + seconds * 1000;
    let done = 0;
    let outstanding = 0;
    const next = () => {
      outstanding++;
      sign('sha256', input, privateKey, (error) => {
        outstanding--;
        if (error) return reject(error);
        done++;
        if (performance.now() < deadline) next();
        else if (outstanding === 0) resolve(done / ((performance.now() - start) / 1000));
      });
    };
    for (let i = 0; i < IN_FLIGHT; i++) next();
  });
}

export async function run(cfg) {
  try {
    const global = await startDaemon('global-cp');
    const admin = await readAdminToken(global.url);
    const issue = async (seconds) => {
      const before = cpuMs(global.pid);
      const result = await loadTest(`${global.url}/tokens/user`, {
        connections: cfg.httpConnections,
        seconds,
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'bench-user', groups: ['developers'], validFor: '1h' }),
      });
      // Server CPU per token (main thread and signing threads), beside one signature's CPU.
      return { ...result, serverCpuUs: ((cpuMs(global.pid) - before) * 1000) / result.requests };
    };

    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const now = Math.floor(Date.now() / 1000);
    const input = Buffer.from(
      encodeSigningInput(
        { alg: 'RS256', kid: '1', typ: 'JWT' },
        { Name: 'bench-user', Groups: ['developers'], exp: now + 3600, nbf: now - 300, iat: now, jti: crypto.randomUUID() },
      ),
    );

    const oneThreadRate = () =>
      ratePerSecond(cfg.signSeconds, () => {
        sign('sha256', input, privateKey);
        return 1;
      });

    if (!cfg.quick) {
      await issue(1);
      await parallelSignRate(0.5, input, privateKey);
    }
    const issueRates = [];
    const serverCpu = [];
    const oneThreadRates = [];
    const allCoresRates = [];
    const ratios = [];
    const allCoresRatios = [];
    for (let i = 0; i < cfg.httpRounds; i++) {
      // Alternate which side goes first, so a slow moment of the machine hits both alike.
      let run;
      if (i % 2 === 0) run = await issue(cfg.httpSeconds);
      const oneThread = oneThreadRate();
      const allCores = await parallelSignRate(cfg.signSeconds, input, privateKey);
      if (i % 2 === 1) run = await issue(cfg.httpSeconds);
      const served = run.perSecond;
      serverCpu.push(run.serverCpuUs);
      issueRates.push(served);
      oneThreadRates.push(oneThread);
      allCoresRates.push(allCores);
      ratios.push(served / oneThread);
      allCoresRatios.push(served / allCores);
      progress(
        'issue',
        `round ${i + 1}: POST /tokens/user ${Math.round(served)}/s (${Math.round(run.serverCpuUs)} µs server CPU each), crypto.sign ${Math.round(oneThread)}/s on one thread, ${Math.round(allCores)}/s on every core`,
      );
    }
    const serverCpuUsPerToken = median(serverCpu);
    const cpuUsPerSignature = 1e6 / median(oneThreadRates);
    return {
      ...pairedRounds(issueRates, oneThreadRates, ratios),
      // The same served rate against crypto.sign on every core at once, and CPU per token against
      // CPU per bare signature.
      ratioVsAllCores: round(median(allCoresRatios), 3),
      baselineAllCoresPerSecond: Math.round(median(allCoresRates)),
      cpuRatio: round(cpuUsPerSignature / serverCpuUsPerToken, 3),
      serverCpuUsPerToken: Math.round(serverCpuUsPerToken),
      baselineCpuUsPerSignature: Math.round(cpuUsPerSignature),
      connections: cfg.httpConnections,
      secondsPerRun: cfg.httpSeconds,
      rounds: cfg.httpRounds,
      target: 0.7,
    };
  } finally {
    await stopAllDaemons();
  }
}

await runIfMain(import.meta.url, run);
