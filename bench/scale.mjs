/**
 * Scale, with N = 1,000,000 revocations (BENCH_SCALE_REVOCATIONS):
 *   importSeconds    global takes them in one `PUT /global-secrets/user-token-revocations` (the
 *                    docs' interface: base64 of comma-separated jtis, ~49 MB of JSON, so this
 *                    global runs with a raised MESHAUTH_API_SERVER_BODY_LIMIT). The first-class
 *                    `POST /tokens/user/revocations` commits (and fsyncs) once per jti, so a
 *                    million of them in a loop is far slower; the PUT is the fast path.
 *   fullSyncSeconds  a fresh zone-cp process, started after the import, until its /sync/status
 *                    shows global's version applied (process start included; from its ready
 *                    line too, beside it). It must then refuse a token whose jti was imported.
 *   snapshotWireMb   bytes global sent that zone for that sync (10^6 bytes), counted by a TCP
 *                    proxy between them (HTTP/2 + gRPC framing included).
 *   globalRssMb      global's RSS holding them: 2 s after the import returned (its transient
 *                    garbage collected), as for the zone below; its peak RSS (VmHWM) beside.
 *   *StallMs         the longest GET /who-am-i (one after another, 10 ms apart) on global while
 *                    it imports, on the zone from its ready line until it applied the snapshot,
 *                    and on global while it serves that snapshot; beside each, the longest on the
 *                    same plane idle (the baseline: global just before the work, the zone after).
 *   zoneRssMb        that zone's RSS once synced; beside it, its RSS restarted on its own store
 *                    (holding the same revocations without the snapshot's transient peak).
 *   deltaBytes       bytes global sent that zone for one further revocation, counted by a TCP
 *                    proxy between them (HTTP/2 + gRPC framing included); the zone's ack beside.
 *   verifyRatio      distinct tokens verified per second (cold, as in verify-cold) with N
 *                    revocations held against with none, in this process; the warm-cache ratio too.
 */
import { randomUUID } from 'node:crypto';
import { startCountingProxy } from './lib/counting-proxy.mjs';
import { startDaemon, stopAllDaemons } from './lib/daemon.mjs';
import { call, expectOk, issueUserToken, readAdminToken } from './lib/http.mjs';
import { issueZoneTokens, now, startSyncedZone, waitFor, whoAmIStatus } from './lib/mesh.mjs';
import { progress, runIfMain } from './lib/standalone.mjs';
import { median, round } from './lib/stats.mjs';
import { idleMs, startStallProbe } from './lib/stall-probe.mjs';
import { verifyWithRevocations } from './lib/verify-with-revocations.mjs';

const DELTA_SAMPLES = 3;

async function syncStatus(zone) {
  return JSON.parse((await expectOk('GET', `${zone.url}/sync/status`)).text);
}

async function waitApplied(zone, version, timeoutMs) {
  await waitFor(`zone to apply version ${version}`, async () => (await syncStatus(zone)).appliedVersion >= version, { timeoutMs, intervalMs: 20 });
}

async function globalVersionOf(zone) {
  let version;
  await waitFor('zone to hear global version', async () => {
    version = (await syncStatus(zone)).globalVersion;
    return typeof version === 'number';
  });
  return version;
}

async function importAndSync(cfg, result) {
  const n = cfg.scaleRevocations;
  const global = await startDaemon('global-cp', { MESHAUTH_API_SERVER_BODY_LIMIT: String(256 * 1024 * 1024) });
  const admin = await readAdminToken(global.url);
  const victim = await issueUserToken(global.url, admin, 'victim', []);
  const victimJti = JSON.parse(Buffer.from(victim.split('.')[1], 'base64url').toString()).jti;
  const prober = await issueUserToken(global.url, admin, 'prober', []);
  const jtis = Array.from({ length: n - 1 }, () => randomUUID());
  jtis.push(victimJti);
  const body = JSON.stringify({ type: 'GlobalSecret', name: 'user-token-revocations', data: Buffer.from(jtis.join(',')).toString('base64') });
  progress('scale', `importing ${n} revocations (${round(body.length / 1e6, 1)} MB request)`);
  result.globalIdleStallMs = await idleMs(global.url, prober);
  let probe = await startStallProbe(global.url, prober);
  let t = now();
  await expectOk('PUT', `${global.url}/global-secrets/user-token-revocations`, { token: admin, body });
  result.importSeconds = round((now() - t) / 1000, 2);
  result.globalImportStallMs = (await probe.stop()).maxMs;
  result.importMethod = 'PUT /global-secrets/user-token-revocations (one request)';
  result.importRequestMb = round(body.length / 1e6, 1);
  // Holding them, as the zone's figure below: once the import's transient garbage is collected.
  await new Promise((r) => setTimeout(r, cfg.quick ? 200 : 2_000));
  result.globalRssMb = global.rssMb();
  result.globalPeakRssMb = global.peakRssMb();
  progress('scale', `imported in ${result.importSeconds} s; global RSS ${result.globalRssMb} MB; longest who-am-i meanwhile ${result.globalImportStallMs} ms (idle ${result.globalIdleStallMs} ms)`);

  const proxy = await startCountingProxy(global.syncPort);
  const [{ zone, token }] = await issueZoneTokens(global.url, admin, ['zone-scale']);
  result.globalIdleStallMs = Math.max(result.globalIdleStallMs, await idleMs(global.url, prober));
  probe = await startStallProbe(global.url, prober);
  t = now();
  // A long heartbeat keeps heartbeats out of the byte count of one delta.
  const zoneCp = await startSyncedZone({ address: `grpc://127.0.0.1:${proxy.port}`, zone, token, env: { MESHAUTH_MULTIZONE_ZONE_HEARTBEAT_INTERVAL: '60s' } });
  const readyAt = now();
  const zoneProbe = await startStallProbe(zoneCp.url, prober);
  const target = await globalVersionOf(zoneCp);
  await waitApplied(zoneCp, target, 600_000);
  const syncedAt = now();
  result.globalSnapshotStallMs = (await probe.stop()).maxMs;
  result.zoneApplyStallMs = (await zoneProbe.stop()).maxMs;
  result.zoneIdleStallMs = await idleMs(zoneCp.url, prober);
  result.fullSyncSeconds = round((syncedAt - t) / 1000, 2);
  result.fullSyncFromReadySeconds = round((syncedAt - readyAt) / 1000, 2);
  result.fullSyncBytes = proxy.counts.downstream;
  result.snapshotWireMb = round(proxy.counts.downstream / 1e6, 1);
  if ((await whoAmIStatus(zoneCp.url, victim)) !== 401) throw new Error('the synced zone still accepts a token whose jti was imported');
  progress('scale', `fresh zone synced in ${result.fullSyncSeconds} s (${result.snapshotWireMb} MB on the wire); longest who-am-i meanwhile: global ${result.globalSnapshotStallMs} ms, zone ${result.zoneApplyStallMs} ms (zone idle ${result.zoneIdleStallMs} ms)`);
  await new Promise((r) => setTimeout(r, cfg.quick ? 200 : 2_000));
  result.zoneRssMb = zoneCp.rssMb();
  progress('scale', `zone RSS once synced: ${result.zoneRssMb} MB`);

  const down = [];
  const up = [];
  for (let i = 0; i < DELTA_SAMPLES; i++) {
    const before = proxy.snapshot();
    const revoked = await call('POST', `${global.url}/tokens/user/revocations`, { token: admin, body: { jti: randomUUID() } });
    if (revoked.status !== 201) throw new Error(`revocation: ${revoked.status} ${revoked.text}`);
    const version = await (async () => {
      let v;
      await waitFor('global to list the zone as caught up', async () => {
        const zones = JSON.parse((await expectOk('GET', `${global.url}/zones`, { token: admin })).text).items;
        const z = zones.find((item) => item.zone === zone);
        v = z?.ackedVersion;
        return z && z.versionsBehind === 0 && v > target + i;
      });
      return v;
    })();
    await waitApplied(zoneCp, version, 10_000);
    const after = proxy.snapshot();
    down.push(after.downstream - before.downstream);
    up.push(after.upstream - before.upstream);
  }
  result.deltaBytes = median(down);
  result.deltaBytesMax = Math.max(...down);
  result.deltaAckBytes = median(up);
  result.deltaTargetBytes = 1024;
  progress('scale', `one more revocation: ${result.deltaBytes} bytes to the zone, ${result.deltaAckBytes} back`);

  // The same zone restarted: it loads the revocations from its store and gets a small delta, so
  // this is the cost of holding them without the snapshot's transient peak.
  await zoneCp.stop({ keepDir: true });
  const restarted = await startSyncedZone({ address: `grpc://127.0.0.1:${proxy.port}`, zone, token, dir: zoneCp.dir, env: { MESHAUTH_MULTIZONE_ZONE_HEARTBEAT_INTERVAL: '60s' } });
  if ((await whoAmIStatus(restarted.url, victim)) !== 401) throw new Error('the restarted zone accepts a token whose jti was imported');
  await new Promise((r) => setTimeout(r, cfg.quick ? 200 : 2_000));
  result.zoneRestartedRssMb = restarted.rssMb();
  progress('scale', `the zone restarted on its store: RSS ${result.zoneRestartedRssMb} MB`);
  await proxy.close();
  await stopAllDaemons();
  return jtis;
}

export async function run(cfg) {
  const result = { revocations: cfg.scaleRevocations };
  try {
    const jtis = await importAndSync(cfg, result);
    await verifyWithRevocations(cfg, jtis, result);
    return result;
  } finally {
    await stopAllDaemons();
  }
}

await runIfMain(import.meta.url, run);
