import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, stopAll, type Daemon } from '../../support/daemon.js';
import { waitForLogSince } from '../support/log-watch.js';
import { startZone, waitForZoneCaughtUp, writeZoneToken } from '../support/multizone.js';
import { startPlane, zoneCpBuilt, type Plane } from '../support/plane-fixture.js';
import { jsonRequest } from '../support/raw-http.js';
import { readStore, type StoreContents } from '../support/store-snapshot.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

/** 60k revocations: a batch of about 3 MB, so at least three chunks of at most 1 MiB. */
const REVOCATIONS = 60_000;

/** What a zone holds of global's user tokens: keys and revocations, comparable as a whole. */
const synced = (s: StoreContents) => ({
  keys: s.signingKeys.filter((k) => k.family === 'user-token').map((k) => `${k.serial}:${k.publicPem}`).sort(),
  revocations: s.revocations.filter((r) => r.family === 'user-token').map((r) => r.jti).sort(),
});

/**
 * A zone SIGKILLed while a multi-chunk batch is on the wire (the proxy freezes the link after the
 * first megabyte, so the kill lands mid-batch for certain) holds exactly its old state or exactly
 * the new one on restart, never part of each, and then completes the sync.
 */
describe.skipIf(!zoneCpBuilt())('SIGKILL a zone in the middle of a snapshot', () => {
  let global: Plane;
  let proxy: TcpProxy;
  let tokenFile: string;
  let storePath: string;
  const env = () => ({
    MESHAUTH_STORE_SQLITE_PATH: storePath,
    MESHAUTH_MULTIZONE_ZONE_NAME: 'zone-1',
    MESHAUTH_MULTIZONE_ZONE_GLOBAL_ADDRESS: `grpc://127.0.0.1:${proxy.port}`,
    MESHAUTH_MULTIZONE_ZONE_GLOBAL_TOKEN_FILE: tokenFile,
    MESHAUTH_MULTIZONE_ZONE_SYNC_USER_TOKEN_KEYS: 'public',
    MESHAUTH_MULTIZONE_ZONE_HEARTBEAT_INTERVAL: '300ms',
  });

  beforeAll(async () => {
    global = await startPlane('global-cp', { MESHAUTH_API_SERVER_BODY_LIMIT: String(16 * 1024 * 1024) });
    proxy = await startTcpProxy(global.daemon.ready.syncPort as number);
    tokenFile = await writeZoneToken(global, 'zone-1');
    storePath = join(global.dir.path, 'zone-1.db');
  });

  afterAll(async () => {
    await stopAll();
    await proxy?.close();
    global?.dir.remove();
  });

  const replaceRevocations = async (prefix: string) => {
    const jtis = Array.from({ length: REVOCATIONS }, () => `${prefix}-${randomUUID()}`);
    const res = await jsonRequest('PUT', `${global.url}/global-secrets/user-token-revocations`, { type: 'GlobalSecret', data: Buffer.from(jtis.join(',')).toString('base64') }, global.adminToken);
    expect(res.status, res.text).toBeLessThan(300);
  };

  /** Starts the zone, freezes the link 1 MiB into the transfer, SIGKILLs the zone, returns what it kept. */
  async function killMidTransfer(): Promise<{ kept: ReturnType<typeof synced>; batch: Record<string, unknown>; mark: number }> {
    proxy.restore();
    const mark = global.daemon.output.length;
    const frozen = proxy.stallAfter(1024 * 1024);
    const zone: Daemon = await startDaemon('zone-cp', env());
    const batch = await waitForLogSince(global.daemon, mark, 'global to start a batch for zone-1', (l) => (l.msg === 'sync: sending snapshot' || l.msg === 'sync: sent delta') && l.zone === 'zone-1');
    await frozen;
    await zone.kill();
    return { kept: synced(readStore(storePath)), batch, mark };
  }

  async function completeSync() {
    proxy.restore();
    const zone = await startDaemon('zone-cp', env());
    await waitForZoneCaughtUp(global, zone.url);
    const state = synced(readStore(storePath));
    await zone.stop();
    return state;
  }

  it('a fresh zone killed mid-snapshot holds nothing synced, then the full snapshot', async () => {
    await replaceRevocations('first');
    const before = synced(readStore(global.storePath));
    const { kept, batch, mark } = await killMidTransfer();
    expect(batch.msg).toBe('sync: sending snapshot');
    // Sent as it is encoded: its size is logged once the whole of it is.
    const encoded = await waitForLogSince(global.daemon, mark, 'global to finish encoding the snapshot', (l) => l.msg === 'sync: encoded snapshot');
    expect(Number(encoded.chunks)).toBeGreaterThanOrEqual(3);
    // Old state: nothing of global's revocations and none of its keys.
    expect(kept.revocations).toEqual([]);
    expect(kept.keys.filter((k) => before.keys.includes(k))).toEqual([]);
    expect(await completeSync()).toEqual(before);
  });

  it('a synced zone killed mid-batch holds exactly the old state or exactly the new one', async () => {
    const old = synced(readStore(storePath));
    expect(old.revocations.length).toBe(REVOCATIONS);
    await replaceRevocations('second');
    const rotated = await jsonRequest('POST', `${global.url}/tokens/user/signing-keys`, {}, global.adminToken);
    expect(rotated.status).toBe(201);
    const next = synced(readStore(global.storePath));
    const { kept } = await killMidTransfer();
    expect(kept).toEqual(old);
    expect(await completeSync()).toEqual(next);
  });
});
