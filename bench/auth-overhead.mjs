/**
 * Authentication overhead: requests per second to `GET /who-am-i` with a valid user token against
 * `GET /` with no token, on one global-cp in its own process, autocannon in another, same
 * connections and duration. The token is one user's, so after its first request every check is a
 * warm-cache hit (which still re-checks exp, revocation and key presence). The unauthenticated
 * side still runs the authn hook (no token: the localhost-admin rules decide), as every route does.
 * Rounds alternate the two routes; see `pairedRounds` for how a shared machine's noise is handled.
 */
import { cpuMs, startDaemon, stopAllDaemons } from './lib/daemon.mjs';
import { issueUserToken, readAdminToken } from './lib/http.mjs';
import { loadTest } from './lib/load.mjs';
import { progress, runIfMain } from './lib/standalone.mjs';
import { pairedRounds, median, round } from './lib/stats.mjs';

export async function run(cfg) {
  try {
    const global = await startDaemon('global-cp');
    const admin = await readAdminToken(global.url);
    const token = await issueUserToken(global.url, admin, 'bench-user', ['developers']);
    const load = { connections: cfg.httpConnections, seconds: cfg.httpSeconds };
    // Server CPU per request beside the rates: on a shared machine it is the steadier figure.
    const measured = async (url, options) => {
      const before = cpuMs(global.pid);
      const result = await loadTest(url, options);
      return { ...result, serverCpuUs: ((cpuMs(global.pid) - before) * 1000) / result.requests };
    };
    const authenticated = () => measured(`${global.url}/who-am-i`, { ...load, headers: { authorization: `Bearer ${token}` } });
    const unauthenticated = () => measured(`${global.url}/`, load);

    // Warm up both paths (JIT, connection setup) before anything is measured.
    if (!cfg.quick) {
      await loadTest(`${global.url}/who-am-i`, { connections: cfg.httpConnections, seconds: 1, headers: { authorization: `Bearer ${token}` } });
      await loadTest(`${global.url}/`, { connections: cfg.httpConnections, seconds: 1 });
    }

    const authRates = [];
    const baseRates = [];
    const ratios = [];
    const authCpu = [];
    const baseCpu = [];
    for (let i = 0; i < cfg.httpRounds; i++) {
      let auth;
      let base;
      if (i % 2 === 0) {
        auth = await authenticated();
        base = await unauthenticated();
      } else {
        base = await unauthenticated();
        auth = await authenticated();
      }
      authRates.push(auth.perSecond);
      baseRates.push(base.perSecond);
      ratios.push(auth.perSecond / base.perSecond);
      authCpu.push(auth.serverCpuUs);
      baseCpu.push(base.serverCpuUs);
      progress(
        'auth-overhead',
        `round ${i + 1}: /who-am-i ${Math.round(auth.perSecond)}/s (${round(auth.serverCpuUs, 1)} µs CPU each), / ${Math.round(base.perSecond)}/s (${round(base.serverCpuUs, 1)} µs)`,
      );
    }
    return {
      ...pairedRounds(authRates, baseRates, ratios),
      serverCpuUsPerRequest: round(median(authCpu), 1),
      // Unauthenticated CPU over authenticated CPU per request: the same question, less sensitive to other load.
      serverCpuRatio: round(median(baseCpu) / median(authCpu), 3),
      baselineServerCpuUsPerRequest: round(median(baseCpu), 1),
      connections: cfg.httpConnections,
      secondsPerRun: cfg.httpSeconds,
      rounds: cfg.httpRounds,
      target: 0.9,
    };
  } finally {
    await stopAllDaemons();
  }
}

await runIfMain(import.meta.url, run);
