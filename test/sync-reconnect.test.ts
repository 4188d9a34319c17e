import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll, tempDir, type Daemon } from './support/daemon.js';
import { http, issueUserToken } from './support/http.js';
import { startGlobal, startZone, syncStatus, writeZoneToken, zoneOnGlobal, type Global } from './support/sync-cluster.js';
import { waitFor } from './support/wait-for.js';

const logsOf = (daemon: Daemon, msg: string) =>
  daemon.output.flatMap((line) => {
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      return parsed.msg === msg ? [parsed] : [];
    } catch {
      return [];
    }
  });

/** SPEC 6: zones persist what they applied, resume with a delta, and never drop state because a stream did. */
describe('sync across restarts', () => {
  const dir = tempDir();
  const globalDb = join(dir.path, 'global.db');
  const zoneDb = join(dir.path, 'zone.db');
  let global: Global;
  let zone: Daemon;
  let tokenFile: string;

  const accepted = (token: string) => http('GET', `${zone.url}/who-am-i`, { token }).then((r) => r.status === 200);
  const refused = (token: string) => http('GET', `${zone.url}/who-am-i`, { token }).then((r) => r.status === 401);
  const jtiOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;
  const revoke = (token: string) => http('POST', `${global.url}/tokens/user/revocations`, { body: { jti: jtiOf(token) } });

  beforeAll(async () => {
    global = await startGlobal(globalDb);
    tokenFile = await writeZoneToken(global, dir.path, 'zone-1');
    zone = await startZone('zone-1', zoneDb, { globalAddress: global.syncAddress, tokenFile });
  });

  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  it('a zone restarted after missing changes receives only a delta of them', async () => {
    const kept = await issueUserToken(global.url, global.adminToken, 'kept', []);
    await waitFor('first sync', () => accepted(kept));
    const before = (await syncStatus(zone)).appliedVersion as number;
    await zone.stop();

    const gone = await issueUserToken(global.url, global.adminToken, 'gone', []);
    expect((await revoke(gone)).status).toBe(201);
    expect((await http('POST', `${global.url}/tokens/user/signing-keys`)).status).toBe(201);

    zone = await startZone('zone-1', zoneDb, { globalAddress: global.syncAddress, tokenFile });
    await waitFor('zone refuses the revoked token', () => refused(gone));
    expect(await accepted(kept)).toBe(true);
    const snapshots = logsOf(global.daemon, 'sync: sending snapshot').filter((l) => l.zone === 'zone-1');
    expect(snapshots).toHaveLength(1);
    const deltas = logsOf(global.daemon, 'sync: sent delta').filter((l) => l.zone === 'zone-1');
    expect(deltas).toEqual([expect.objectContaining({ from: before, to: before + 2 })]);
    expect((await syncStatus(zone)).appliedVersion).toBe(before + 2);
  });

  it('a zone restarted while global is down still authenticates with what it last applied', async () => {
    const alive = await issueUserToken(global.url, global.adminToken, 'alive', []);
    const dead = await issueUserToken(global.url, global.adminToken, 'dead', []);
    expect((await revoke(dead)).status).toBe(201);
    await waitFor('zone refuses the revoked token', () => refused(dead));
    await waitFor('zone caught up', async () => (await zoneOnGlobal(global, 'zone-1'))?.versionsBehind === 0);

    await global.daemon.kill();
    await waitFor('zone notices global is gone', async () => (await syncStatus(zone)).state !== 'connected');
    await zone.stop();
    zone = await startZone('zone-1', zoneDb, { globalAddress: global.syncAddress, tokenFile });
    expect(await accepted(alive)).toBe(true);
    expect(await refused(dead)).toBe(true);
    expect((await syncStatus(zone)).lastError).toMatch(/UNAVAILABLE|No connection|ECONNREFUSED/);
  });

  it('after global is SIGKILLed and restarted, the zone reconnects and catches up', async () => {
    global = await startGlobal(globalDb, { MESHAUTH_MULTIZONE_GLOBAL_SYNC_PORT: String(global.syncPort) });
    const later = await issueUserToken(global.url, global.adminToken, 'later', []);
    await waitFor('zone accepts a token issued after the restart', () => accepted(later));
    expect((await revoke(later)).status).toBe(201);
    await waitFor('zone refuses it once revoked', () => refused(later));
    const status = await waitFor('caught up on global', async () => {
      const z = await zoneOnGlobal(global, 'zone-1');
      return z?.connected && z.versionsBehind === 0 && z;
    });
    expect(status.lastError).toBeNull();
  });
});
