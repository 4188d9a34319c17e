import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '@meshauth/core';
import { stopAll, tempDir, type Daemon } from './support/daemon.js';
import { http, issueUserToken } from './support/http.js';
import { hello, openProbe, startGlobal, startZone, writeZoneToken, zoneOnGlobal, type Global } from './support/sync-cluster.js';
import { waitFor } from './support/wait-for.js';

/** SPEC 6, public mode: global's user tokens work on every zone, zones cannot mint any, no private key leaves global. */
describe('sync in public mode: one global, two zones', () => {
  const dir = tempDir();
  let global: Global;
  let zones: Daemon[];

  beforeAll(async () => {
    global = await startGlobal(join(dir.path, 'global.db'));
    zones = await Promise.all(
      ['zone-1', 'zone-2'].map(async (name) =>
        startZone(name, join(dir.path, `${name}.db`), { mode: 'public', globalAddress: global.syncAddress, tokenFile: await writeZoneToken(global, dir.path, name) }),
      ),
    );
  });

  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  const whoAmI = (zone: Daemon, token: string) => http('GET', `${zone.url}/who-am-i`, { token });

  it('a user token issued by global authenticates on each zone', async () => {
    const token = await issueUserToken(global.url, global.adminToken, 'alice', ['dev']);
    for (const zone of zones) {
      const result = await waitFor('zone to accept the global token', async () => {
        const r = await whoAmI(zone, token);
        return r.status === 200 && r.json;
      });
      expect(result).toEqual({ name: 'alice', groups: ['dev', 'mesh-system:authenticated'] });
    }
  });

  it('a zone refuses to issue user tokens and to change synced keys or revocations (409)', async () => {
    const zone = zones[0]!;
    const issue = await http('POST', `${zone.url}/tokens/user`, { body: { name: 'bob', groups: [], validFor: '1h' } });
    expect(issue.status).toBe(409);
    expect(issue.json.detail).toMatch(/issued on the global control plane/);
    const rotate = await http('POST', `${zone.url}/tokens/user/signing-keys`);
    expect(rotate.status).toBe(409);
    expect(rotate.json.detail).toMatch(/managed by the global control plane \(sync mode public\)/);
    const revoke = await http('POST', `${zone.url}/tokens/user/revocations`, { body: { jti: 'x' } });
    expect(revoke.status).toBe(409);
    // The zone skipped its own admin-token bootstrap.
    expect((await http('GET', `${zone.url}/global-secrets/admin-user-token`)).status).toBe(404);
  });

  it('revoking on global (either interface) makes every zone refuse the token', async () => {
    const viaApi = await issueUserToken(global.url, global.adminToken, 'carol', []);
    const viaSecret = await issueUserToken(global.url, global.adminToken, 'dave', []);
    for (const zone of zones) await waitFor('token accepted', async () => (await whoAmI(zone, viaApi)).status === 200);
    expect((await http('POST', `${global.url}/tokens/user/revocations`, { token: global.adminToken, body: { token: viaApi } })).status).toBe(201);
    // The docs' interface: the revocation secret holds the comma-separated jtis and replaces the set.
    const current = (await http('GET', `${global.url}/global-secrets/user-token-revocations`, { token: global.adminToken })).json;
    const jtis = Buffer.from(current.data, 'base64').toString().split(',');
    const daveJti = JSON.parse(Buffer.from(viaSecret.split('.')[1]!, 'base64url').toString()).jti as string;
    const put = await http('PUT', `${global.url}/global-secrets/user-token-revocations`, {
      token: global.adminToken,
      body: { type: 'GlobalSecret', name: 'user-token-revocations', data: Buffer.from([...jtis, daveJti].join(',')).toString('base64') },
    });
    expect(put.status).toBeLessThan(300);
    for (const zone of zones) {
      for (const token of [viaApi, viaSecret]) {
        const refused = await waitFor('zone to refuse the revoked token', async () => {
          const r = await whoAmI(zone, token);
          return r.status === 401 && r.json;
        });
        expect(refused.detail).toMatch(/revoked/);
      }
    }
  });

  it('global lists both zones as connected and caught up', async () => {
    for (const name of ['zone-1', 'zone-2']) {
      const status = await waitFor('zone caught up', async () => {
        const z = await zoneOnGlobal(global, name);
        return z?.versionsBehind === 0 && z.ackedVersion > 1 && z;
      });
      expect(status).toMatchObject({ connected: true, mode: 'public', lagMs: 0, lastError: null });
    }
    const metrics = (await http('GET', `${global.url}/metrics`)).text;
    expect(metrics).toMatch(/meshauth_sync_zone_connected\{[^}]*zone="zone-1"[^}]*\} 1/);
  });

  it('no private key byte crosses the stream in public mode, in snapshots or deltas', async () => {
    const token = (zone: string) => writeZoneToken(global, dir.path, zone).then((file) => readFileSync(file, 'utf8'));
    const publicProbe = openProbe(global.syncPort, await token('probe-public'));
    publicProbe.send(hello('probe-public', 'SYNC_MODE_PUBLIC'));
    await waitFor('snapshot', () => publicProbe.received.some((m) => m.batch?.last));
    // One more change while connected: a delta.
    await http('POST', `${global.url}/tokens/user/signing-keys`, { token: global.adminToken });
    await waitFor('delta with the new key', () => publicProbe.received.some((m) => m.batch?.kind === 'KIND_DELTA' && m.batch.keys.length === 1));
    const wire = JSON.stringify(publicProbe.received);
    expect(wire).toContain('PUBLIC KEY');
    expect(wire).not.toContain('PRIVATE KEY');
    expect(publicProbe.received.flatMap((m) => m.batch?.keys ?? []).every((k) => k.privatePem === '')).toBe(true);
    publicProbe.close();
  });

  it('rotation on global (add key 3, delete the older keys) is mirrored on every zone', async () => {
    const old = await issueUserToken(global.url, global.adminToken, 'erin', []);
    expect((await http('POST', `${global.url}/tokens/user/signing-keys`, { token: global.adminToken })).json).toEqual({ serial: 3 });
    const fresh = await issueUserToken(global.url, global.adminToken, 'erin', []);
    // Key 1 also signed the admin token: from here on act as the localhost admin.
    expect((await http('DELETE', `${global.url}/global-secrets/user-token-signing-key-1`, { token: global.adminToken })).status).toBeLessThan(300);
    expect((await http('DELETE', `${global.url}/global-secrets/user-token-signing-key-2`)).status).toBeLessThan(300);
    for (const zone of zones) {
      await waitFor('new key accepted', async () => (await whoAmI(zone, fresh)).status === 200);
      const refused = await waitFor('old key refused', async () => {
        const r = await whoAmI(zone, old);
        return r.status === 401 && r.json;
      });
      expect(refused.detail).toMatch(/rotated/);
      const keys = (await http('GET', `${zone.url}/tokens/user/signing-keys`)).json.items;
      expect(keys.map((k: { serial: number; hasPrivateKey: boolean; origin: string }) => [k.serial, k.hasPrivateKey, k.origin])).toEqual([[3, false, 'synced']]);
    }
  });

  it('the zone store holds no private user-token key', async () => {
    const zone = zones[0]!;
    await zone.stop();
    const store = SqliteStore.open(join(dir.path, 'zone-1.db'));
    try {
      const keys = await store.read.listKeys('user-token');
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.every((k) => k.privatePem === null && k.origin === 'synced')).toBe(true);
      const everything = JSON.stringify(store.db.prepare("SELECT * FROM signing_keys WHERE family = 'user-token'").all());
      expect(everything).not.toContain('PRIVATE KEY');
    } finally {
      await store.close();
    }
  });
});
