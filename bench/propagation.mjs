/**
 * Propagation: from a revocation sent to global's API (`POST /tokens/user/revocations`; the clock
 * starts when the request is sent, so global's own handling is included) to every zone refusing
 * the token. Three setups, each with a fresh global-cp process:
 *   zones2    two real zone-cp processes; "refusing" = the zone's GET /who-am-i answers 401,
 *             polled back to back from this process;
 *   zones100  / zones1000 / zones10000: that many simulated zones — zone-cp's own sync client
 *             (createSyncClient), each with its own zone token, gRPC connection, store and
 *             family, several hundred per worker process — on one global; timed the moment the
 *             zone applies the change, from when its own verifier refuses the token (proven once
 *             every zone has reported, outside the timing). zones10000 also times the connection storm
 *             (connectSeconds: all 10,000 dial at once until the last has applied its first sync).
 * Per sample the figure is the time until the LAST zone refuses; p50/p99 are over samples.
 */
import { cpuMs, startDaemon, stopAllDaemons } from './lib/daemon.mjs';
import { expectOk, issueUserToken, readAdminToken } from './lib/http.mjs';
import { issueZoneTokens, jtiOf, now, startSyncedZone, waitFor, whoAmIStatus } from './lib/mesh.mjs';
import { progress, runIfMain } from './lib/standalone.mjs';
import { percentile, round } from './lib/stats.mjs';
import { startZoneSwarm } from './lib/zone-swarm.mjs';
import { loadavg } from 'node:os';

const POLL_TIMEOUT_MS = 30_000;

function summary(allZonesMs, perZoneMs, extra) {
  return {
    p50Ms: round(percentile(allZonesMs, 50), 1),
    p99Ms: round(percentile(allZonesMs, 99), 1),
    maxMs: round(Math.max(...allZonesMs), 1),
    perZoneP50Ms: round(percentile(perZoneMs, 50), 1),
    perZoneP99Ms: round(percentile(perZoneMs, 99), 1),
    samples: allZonesMs.length,
    ...extra,
  };
}

/** Times `samples` revocations; `watch(jti, token)` resolves with each zone's refusal time. */
async function timeRevocations(name, global, admin, samples, { accepts, watch }) {
  const allZones = [];
  const perZone = [];
  for (let i = 0; i < samples; i++) {
    const token = await issueUserToken(global.url, admin, `victim-${i}`, ['developers']);
    const jti = jtiOf(token);
    await accepts(token);
    const refused = await watch(jti, token);
    const sentAt = now();
    const revoking = expectOk('POST', `${global.url}/tokens/user/revocations`, { token: admin, body: { jti } });
    const [times] = await Promise.all([refused(sentAt), revoking]);
    const latencies = times.map((t) => t - sentAt);
    perZone.push(...latencies);
    allZones.push(Math.max(...latencies));
  }
  progress('propagation', `${name}: p50 ${round(percentile(allZones, 50), 1)} ms, p99 ${round(percentile(allZones, 99), 1)} ms over ${samples} revocations`);
  return { allZones, perZone };
}

async function realZones(cfg, count) {
  const global = await startDaemon('global-cp');
  const admin = await readAdminToken(global.url);
  const address = `grpc://127.0.0.1:${global.syncPort}`;
  const names = Array.from({ length: count }, (_, i) => `zone-${i + 1}`);
  const zones = await Promise.all((await issueZoneTokens(global.url, admin, names)).map((z) => startSyncedZone({ address, ...z })));
  const probe = await issueUserToken(global.url, admin, 'probe', []);
  await Promise.all(zones.map((z) => waitFor(`${z.url} to accept global's tokens`, async () => (await whoAmIStatus(z.url, probe)) === 200)));
  const accepts = async (token) => {
    for (const z of zones) if ((await whoAmIStatus(z.url, token)) !== 200) throw new Error(`${z.url} refuses a fresh token`);
  };
  // Each zone polled back to back until it answers 401; the time is taken when that answer arrives.
  const watch = async (jti, token) => (sentAt) =>
    Promise.all(
      zones.map(async (z) => {
        for (;;) {
          const status = await whoAmIStatus(z.url, token);
          if (status === 401) return now();
          if (status !== 200) throw new Error(`${z.url}: /who-am-i answered ${status}`);
          if (now() - sentAt > POLL_TIMEOUT_MS) throw new Error(`${z.url} still accepts a token revoked ${POLL_TIMEOUT_MS} ms ago`);
        }
      }),
    );
  const { allZones, perZone } = await timeRevocations(`${count} zone processes`, global, admin, cfg.propagationSamples, { accepts, watch });
  const result = summary(allZones, perZone, { zones: count, kind: 'zone-cp processes', zoneRssMb: zones.map((z) => z.rssMb()), globalRssMb: global.rssMb() });
  await stopAllDaemons();
  return result;
}

/**
 * `count` simulated zones (see zone-swarm.mjs for what one is) on a fresh global. The zones are
 * prepared first, then all dial at once: `connectSeconds` runs from the first dial to the moment
 * the last zone has applied its first sync (its snapshot holds global's user-token key), and
 * global's GET /zones then lists every one connected.
 */
async function syncClients(cfg, count, { perProcess = cfg.zonesPerProcess, samples = cfg.propagationSamples } = {}) {
  // One descriptor per zone's connection, and room for the rest.
  const global = await startDaemon('global-cp', {}, { openFiles: count + 4_096 });
  let swarm;
  try {
    const admin = await readAdminToken(global.url);
    const names = Array.from({ length: count }, (_, i) => `zone-${i + 1}`);
    const issuing = now();
    const zones = await issueZoneTokens(global.url, admin, names);
    progress('propagation', `${count} zone tokens issued in ${round((now() - issuing) / 1000, 1)} s`);
    const started = now();
    swarm = await startZoneSwarm({ address: `grpc://127.0.0.1:${global.syncPort}`, zones, perProcess, connect: false });
    // CPU time used (global, and every worker together): on a machine shared with other work, what each phase cost is steadier than how long it took.
    const cpu = () => ({ global: cpuMs(global.pid), zones: swarm.workers.reduce((sum, w) => sum + cpuMs(w.child.pid), 0) });
    const beforeConnect = cpu();
    const dialedAt = await swarm.connect();
    // Global's user-token key is its version 1: every zone that applied its snapshot holds it.
    const syncedAt = await swarm.waitSynced(1);
    const listed = JSON.parse((await expectOk('GET', `${global.url}/zones`, { token: admin })).text).items;
    const connected = listed.filter((z) => z.connected).length;
    if (connected !== count) throw new Error(`global lists ${connected} connected zones, expected ${count}`);
    progress('propagation', `${count} sync clients in ${swarm.workers.length} processes connected and synced in ${round((syncedAt - dialedAt) / 1000, 2)} s (${swarm.redials} redials)`);
    // The refusals are proven after every zone has reported its time, outside the timing.
    const watch = async (jti, token) => {
      const { refused, prove } = await swarm.watch(jti, token);
      return async () => {
        const times = await refused;
        await prove();
        return times;
      };
    };
    const afterConnect = cpu();
    const { allZones, perZone } = await timeRevocations(`${count} sync clients`, global, admin, samples, { accepts: (t) => swarm.accepts(t), watch });
    const afterRevocations = cpu();
    return summary(allZones, perZone, {
      zones: count,
      kind: 'zone sync clients',
      processes: swarm.workers.length,
      connectSeconds: round((syncedAt - dialedAt) / 1000, 2),
      // Streams the zones dialed again before their first sync (a lost connection, an unanswered hello).
      connectRedials: swarm.redials,
      connectCpuSeconds: { global: round((afterConnect.global - beforeConnect.global) / 1000, 2), zones: round((afterConnect.zones - beforeConnect.zones) / 1000, 2) },
      // Includes issuing each victim token and checking every zone accepts it before its revocation (outside the timing).
      cpuMsPerRevocation: { global: round((afterRevocations.global - afterConnect.global) / samples, 1), zones: round((afterRevocations.zones - afterConnect.zones) / samples, 1) },
      loadAverage: loadavg().map((l) => round(l, 2)),
      initialSyncSeconds: round((syncedAt - started) / 1000, 2),
      globalRssMb: global.rssMb(),
      clientsRssMb: round(swarm.rssMb(), 1),
    });
  } finally {
    await swarm?.stop();
    await stopAllDaemons();
  }
}

/** BENCH_PROPAGATION_SETUPS=zones10000 (comma-separated) runs only those setups: for working on one. */
const setupsWanted = process.env.BENCH_PROPAGATION_SETUPS?.split(',');

export async function run(cfg) {
  const setups = {
    zones2: () => realZones(cfg, 2),
    zones100: async () => ({ ...(await syncClients(cfg, cfg.zonesMedium)), targetP99Ms: 100 }),
    zones1000: async () => ({ ...(await syncClients(cfg, cfg.zonesLarge)), targetP99Ms: 1000 }),
    zones10000: async () => ({
      ...(await syncClients(cfg, cfg.zonesHuge, { perProcess: cfg.zonesHugePerProcess, samples: cfg.propagationHugeSamples })),
      targetP99Ms: 1000,
      targetConnectSeconds: 30,
    }),
  };
  const result = {};
  try {
    for (const [name, setup] of Object.entries(setups)) if (!setupsWanted || setupsWanted.includes(name)) result[name] = await setup();
    return result;
  } finally {
    await stopAllDaemons();
  }
}

await runIfMain(import.meta.url, run);
