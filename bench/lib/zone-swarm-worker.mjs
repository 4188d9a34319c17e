/**
 * A child process holding many zone sync clients: the real `createSyncClient` from zone-cp, each
 * with its own SQLite store and user-token family, as a zone-cp process has. Driven over IPC by
 * zone-swarm.mjs. Stores are in memory by default (BENCH_SWARM_STORE=file puts each in a file):
 * a real zone fsyncs to its own disk, and hundreds of zones fsyncing on one shared disk would
 * measure that disk, not the sync.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, defaults, isMeshAuthError, parseDuration, SQLITE_PROFILES, SqliteStore, systemClock, TokenFamilies } from '@meshauth/core';
import { createSyncClient, SyncedState } from '@meshauth/zone-cp';

const now = () => performance.timeOrigin + performance.now();
const logger = createLogger({ name: 'zone-swarm', level: 'error' });
const dir = process.env.BENCH_SWARM_STORE === 'file' ? mkdtempSync(join(tmpdir(), 'meshauth-bench-swarm-')) : undefined;
const zones = [];
/** jti → { token, pending zones, times } while a revocation is being watched. */
const watches = new Map();
/** jti → token of a revocation every zone here applied, until `prove` checks they refuse it. */
const proofs = new Map();

async function prepareZones({ address, zones: specs, heartbeatIntervalMs }) {
  for (const { zone, token } of specs) {
    // As zone-cp opens its store (openStore): pages and cache sized for a stream of small deltas.
    const store = SqliteStore.open(dir ? join(dir, `${zone}.db`) : ':memory:', { profile: SQLITE_PROFILES.deltas });
    const families = await TokenFamilies.open({ store, clock: systemClock, logger });
    const user = families.user;
    const entry = { zone, store, families, user, client: undefined };
    user.family.onChange((change) => {
      for (const { jti } of change.revocationsAdded) {
        const watch = watches.get(jti);
        // Reported, never thrown: a throw here would land in the zone's own apply path.
        if (watch && !watch.done.has(zone)) {
          try {
            refused(watch, entry);
          } catch (error) {
            process.send({ type: 'error', message: error?.stack ?? String(error) });
          }
        }
      }
    });
    entry.client = createSyncClient({
      address,
      readToken: () => token,
      zone,
      mode: 'public',
      family: user.family,
      store,
      clock: systemClock,
      logger,
      heartbeatIntervalMs,
      // zone-cp's defaults (multizone.zone.reconnectMinBackoff / reconnectMaxBackoff): a zone that
      // fails its first dial in a connection storm redials as a real one would. A 5 s cap made
      // 10,000 of them redial fast enough to use up the loopback's ephemeral ports.
      minBackoffMs: parseDuration(defaults.multizone.zone.reconnectMinBackoff),
      maxBackoffMs: parseDuration(defaults.multizone.zone.reconnectMaxBackoff),
      state: await SyncedState.load(store, logger),
    });
    zones.push(entry);
  }
}

function connectZones() {
  const startedAt = now();
  for (const z of zones) z.client.start();
  return startedAt;
}

/**
 * The zone applied the revocation: from this moment its verifier refuses the token. Only the time
 * is taken here; the verifier calls that prove the refusals run when asked (`prove`), once every
 * zone of every worker has applied it, so proving never takes CPU from a zone still applying.
 */
function refused(watch, entry) {
  watch.done.set(entry.zone, now());
  if (watch.done.size < zones.length) return;
  watches.delete(watch.jti);
  proofs.set(watch.jti, watch.token);
  process.send({ type: 'refused', jti: watch.jti, times: [...watch.done.values()] });
}

/** Every zone here refuses the token whose revocation it reported applied. */
function prove(jti) {
  const token = proofs.get(jti);
  proofs.delete(jti);
  if (token === undefined) throw new Error(`no applied revocation ${jti} to prove`);
  for (const z of zones) {
    try {
      z.user.verifier.verify(token);
    } catch (error) {
      if (isMeshAuthError(error) && error.code === 'ERR_TOKEN_REVOKED') continue;
      throw error;
    }
    throw new Error(`zone ${z.zone} still accepts a token whose jti it has applied as revoked`);
  }
}

/** Resolves once every zone has applied at least `version` (checked every 10 ms). */
async function waitSynced(version, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (zones.some((z) => z.client.state.appliedVersion < version)) {
    if (Date.now() > deadline) {
      const behind = zones.filter((z) => z.client.state.appliedVersion < version);
      throw new Error(`${behind.length} zones not at version ${version}; first: ${behind[0].zone} ${JSON.stringify(behind[0].client.status())}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return now();
}

process.on('message', async (message) => {
  try {
    switch (message.type) {
      case 'prepare':
        await prepareZones(message);
        return process.send({ type: 'prepared' });
      case 'connect':
        return process.send({ type: 'connecting', at: connectZones() });
      case 'wait-synced':
        return process.send({ type: 'synced', at: await waitSynced(message.version, message.timeoutMs), redials: zones.reduce((sum, z) => sum + z.client.status().reconnects, 0) });
      case 'accepts': {
        // Every zone must accept the token before its revocation is timed.
        for (const z of zones) z.user.verifier.verify(message.token);
        return process.send({ type: 'accepted' });
      }
      case 'watch':
        watches.set(message.jti, { jti: message.jti, token: message.token, done: new Map() });
        return process.send({ type: 'watching' });
      case 'prove':
        prove(message.jti);
        return process.send({ type: 'proved' });
      case 'stop':
        await Promise.all(zones.map((z) => z.client.stop()));
        for (const z of zones) {
          z.families.feed.stop();
          await z.store.close();
        }
        if (dir) rmSync(dir, { recursive: true, force: true });
        process.send({ type: 'stopped' });
        return process.exit(0);
      default:
        throw new Error(`unknown message ${message.type}`);
    }
  } catch (error) {
    process.send({ type: 'error', message: error?.stack ?? String(error) });
  }
});
process.send({ type: 'ready' });
