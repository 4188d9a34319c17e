/**
 * Issuing: `POST /tokens/user` per second on a global-cp in its own process (autocannon in
 * another), against raw `crypto.sign('sha256', …)` RS256 per second with a 2048-bit key like
 * global's. The baseline signs on libuv's thread pool with several signatures in flight, as the
 * issuer does, so it is what the machine's cores can sign at best; the one-thread synchronous rate
 * is reported beside it.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { encodeSigningInput } from '@meshauth/core';
import { cpuMs, startDaemon, stopAllDaemons } from './lib/daemon.mjs';
import { readAdminToken } from './lib/http.mjs';
import { loadTest } from './lib/load.mjs';
import { progress, runIfMain } from './lib/standalone.mjs';
import { median, pairedRounds, ratePerSecond } from './lib/stats.mjs';

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

    if (!cfg.quick) {
      await issue(1);
      await parallelSignRate(0.5, input, privateKey);
    }
    const issueRates = [];
    const serverCpu = [];
    const signRates = [];
    const ratios = [];
    for (let i = 0; i < cfg.httpRounds; i++) {
      let served;
      let signed;
      let run;
      if (i % 2 === 0) {
        run = await issue(cfg.httpSeconds);
        signed = await parallelSignRate(cfg.signSeconds, input, privateKey);
      } else {
        signed = await parallelSignRate(cfg.signSeconds, input, privateKey);
        run = await issue(cfg.httpSeconds);
      }
      served = run.perSecond;
      serverCpu.push(run.serverCpuUs);
      issueRates.push(served);
      signRates.push(signed);
      ratios.push(served / signed);
      progress('issue', `round ${i + 1}: POST /tokens/user ${Math.round(served)}/s (${Math.round(run.serverCpuUs)} µs server CPU each), crypto.sign ${Math.round(signed)}/s`);
    }
    const oneThread = ratePerSecond(cfg.signSeconds, () => {
      sign('sha256', input, privateKey);
      return 1;
    });
    const serverCpuUsPerToken = median(serverCpu);
    return {
      ...pairedRounds(issueRates, signRates, ratios),
      baselineOneThreadPerSecond: Math.round(oneThread),
      // The same served rate against synchronous crypto.sign on one thread (the literal "raw
      // crypto.sign per second"), and CPU per token against CPU per bare signature.
      ratioVsOneThread: Math.round((median(issueRates) / oneThread) * 1000) / 1000,
      cpuRatio: Math.round((1e6 / oneThread / serverCpuUsPerToken) * 1000) / 1000,
      serverCpuUsPerToken: Math.round(serverCpuUsPerToken),
      baselineCpuUsPerSignature: Math.round(1e6 / oneThread),
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
