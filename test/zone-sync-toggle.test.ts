import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll, tempDir, type Daemon } from './support/daemon.js';
import { http, issueUserToken, readAdminToken } from './support/http.js';
import { startGlobal, startZone, writeZoneToken, type Global } from './support/sync-cluster.js';
import { waitFor } from './support/wait-for.js';

const snapshotsFor = (global: Global, zone: string) =>
  global.daemon.output.filter((line) => line.includes('"msg":"sync: sending snapshot"') && line.includes(`"zone":"${zone}"`)).length;

/** A zone that stops syncing becomes independent; one that starts again gets a full snapshot. */
describe('turning sync off and on again on a zone', () => {
  const dir = tempDir();
  const zoneDb = join(dir.path, 'zone.db');
  let global: Global;
  let zone: Daemon;
  let tokenFile: string;

  beforeAll(async () => {
    global = await startGlobal(join(dir.path, 'global.db'));
    tokenFile = await writeZoneToken(global, dir.path, 'zone-1');
  });

  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  it('after public sync, sync off gives the zone its own signing key and admin token', async () => {
    zone = await startZone('zone-1', zoneDb, { globalAddress: global.syncAddress, tokenFile });
    const token = await issueUserToken(global.url, global.adminToken, 'alice', []);
    await waitFor('synced', async () => (await http('GET', `${zone.url}/who-am-i`, { token })).status === 200);
    await zone.stop();

    zone = await startZone('zone-1', zoneDb, { mode: 'off' });
    const zoneAdmin = await readAdminToken(zone.url);
    expect((await http('GET', `${zone.url}/who-am-i`, { token: zoneAdmin })).json.name).toBe('mesh-system:admin');
    const keys = (await http('GET', `${zone.url}/tokens/user/signing-keys`)).json.items;
    expect(keys.map((k: { serial: number; hasPrivateKey: boolean; signs: boolean }) => [k.serial, k.hasPrivateKey, k.signs])).toEqual([
      [1, false, false],
      [2, true, true],
    ]);
    expect((await http('POST', `${zone.url}/tokens/user/signing-keys`)).status).toBe(201);
    await zone.stop();
  });

  it('sync on again starts over with a snapshot that replaces what the zone did alone', async () => {
    expect(snapshotsFor(global, 'zone-1')).toBe(1);
    zone = await startZone('zone-1', zoneDb, { globalAddress: global.syncAddress, tokenFile });
    await waitFor('a second snapshot', () => snapshotsFor(global, 'zone-1') === 2);
    await waitFor('only global keys remain', async () => {
      const items = (await http('GET', `${zone.url}/tokens/user/signing-keys`)).json.items as { serial: number; origin: string }[];
      return items.length === 1 && items[0]!.serial === 1 && items[0]!.origin === 'synced';
    });
    await zone.stop();
  });

  it('a zone turning sync on keeps no key of its own, even before it reaches global', async () => {
    zone = await startZone('zone-1', zoneDb, { mode: 'off' });
    const own = (await http('GET', `${zone.url}/tokens/user/signing-keys`)).json.items as { origin: string; hasPrivateKey: boolean }[];
    expect(own.some((k) => k.origin === 'local' && k.hasPrivateKey)).toBe(true);
    await zone.stop();

    // Port 1: nothing listens, so no snapshot can replace anything; the zone must not mint meanwhile.
    zone = await startZone('zone-1', zoneDb, { globalAddress: 'grpc://127.0.0.1:1', tokenFile });
    const keys = (await http('GET', `${zone.url}/tokens/user/signing-keys`)).json.items as { origin: string; hasPrivateKey: boolean }[];
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((k) => k.origin === 'synced' && !k.hasPrivateKey)).toBe(true);
    const issued = await http('POST', `${zone.url}/tokens/user`, { body: { name: 'mallory', groups: [], validFor: '1h' } });
    expect(issued.status).toBe(409);
    expect(issued.json.detail).toMatch(/issued on the global control plane/);
  });
});
