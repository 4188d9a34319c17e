/**
 * Authentication overhead: requests per second to `GET /who-am-i` with a valid user token against
 * `GET /` with no token, on one global-cp in its own process, autocannon in another, same
 * connections and duration. The token is one user's, so after its first request every check is a
 * warm-cache hit (which still re-checks exp, revocation and key presence). The unauthenticated
 * side still runs the authn hook (no token: the localhost-admin rules decide), as every route does.
 *
 * The two routes run as many short pairs, back to back in one autocannon process (see
 * paired-load-worker.mjs): this machine's speed drifts from second to second, and the median of
 * many close pairs is what keeps that drift out of the ratio.
 */
import { startDaemon, stopAllDaemons } from './lib/daemon.mjs';
import { issueUserToken, readAdminToken } from './lib/http.mjs';
import { loadTest, pairedLoadTest } from './lib/load.mjs';
import { progress, runIfMain } from './lib/standalone.mjs';
import { pairedRounds, median, percentile, round } from './lib/stats.mjs';

export async function run(cfg) {
  try {
    const global = await startDaemon('global-cp');
    const admin = await readAdminToken(global.url);
    const token = await issueUserToken(global.url, admin, 'bench-user', ['developers']);
    const authenticated = { url: `${global.url}/who-am-i`, headers: { authorization: `Bearer ${token}` } };
    const unauthenticated = { url: `${global.url}/` };

    // Warm up both paths (JIT, connection setup) before anything is measured.
    if (!cfg.quick) {
      await loadTest(authenticated.url, { connections: cfg.httpConnections, seconds: 1, headers: authenticated.headers });
      await loadTest(unauthenticated.url, { connections: cfg.httpConnections, seconds: 1 });
    }

    progress('auth-overhead', `${cfg.pairedRounds} pairs of ${cfg.pairedSeconds} s runs, ${cfg.httpConnections} connections`);
    const { a: auth, b: base } = await pairedLoadTest(authenticated, unauthenticated, {
      connections: cfg.httpConnections,
      seconds: cfg.pairedSeconds,
      rounds: cfg.pairedRounds,
      serverPid: global.pid,
    });
    const ratios = auth.map((run, i) => run.perSecond / base[i].perSecond);
    const authCpu = auth.map((run) => run.serverCpuUs);
    const baseCpu = base.map((run) => run.serverCpuUs);
    progress(
      'auth-overhead',
      `pair ratios p25 ${round(percentile(ratios, 25), 3)}, median ${round(median(ratios), 3)}, p75 ${round(percentile(ratios, 75), 3)}; ` +
        `/who-am-i ${Math.round(median(auth.map((r) => r.perSecond)))}/s (${round(median(authCpu), 1)} µs CPU each), / ${Math.round(median(base.map((r) => r.perSecond)))}/s (${round(median(baseCpu), 1)} µs)`,
    );
    return {
      ...pairedRounds(
        auth.map((r) => r.perSecond),
        base.map((r) => r.perSecond),
        ratios,
      ),
      serverCpuUsPerRequest: round(median(authCpu), 1),
      // Unauthenticated CPU over authenticated CPU per request: the same question, less sensitive to other load.
      serverCpuRatio: round(median(baseCpu) / median(authCpu), 3),
      baselineServerCpuUsPerRequest: round(median(baseCpu), 1),
      connections: cfg.httpConnections,
      secondsPerRun: cfg.pairedSeconds,
      rounds: cfg.pairedRounds,
      target: 0.9,
    };
  } finally {
    await stopAllDaemons();
  }
}

await runIfMain(import.meta.url, run);
