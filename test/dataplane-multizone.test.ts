import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, stopAll, tempDir, type Daemon } from './support/daemon.js';
import { http, issueUserToken, readAdminToken } from './support/http.js';

/** Polls until `check` passes or the deadline ends, then fails with the last error. */
async function eventually(check: () => Promise<void>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

// The issue's story end to end: a user token from global (synced public keys) lets team-a
// generate a dataplane token on zone-1, which bootstraps on zone-1's dp-server, not on zone-2's,
// and no longer on zone-1 once revoked there.
describe('dataplane tokens across zones', () => {
  const dir = tempDir();
  let global: Daemon;
  let zone1: Daemon;
  let zone2: Daemon;
  let admin: string;
  let alice: string;

  const startZone = async (zone: string) => {
    const zoneToken = await http('POST', `${global.url}/tokens/zone`, { token: admin, body: { zone, scope: ['cp'], validFor: '1h' } });
    expect(zoneToken.status).toBe(200);
    const tokenFile = join(dir.path, `${zone}.token`);
    writeFileSync(tokenFile, zoneToken.text, { mode: 0o600 });
    return startDaemon('zone-cp', {
      MESHAUTH_STORE_SQLITE_PATH: join(dir.path, `${zone}.db`),
      MESHAUTH_MULTIZONE_ZONE_NAME: zone,
      MESHAUTH_MULTIZONE_ZONE_GLOBAL_ADDRESS: `grpc://127.0.0.1:${global.ready.syncPort as number}`,
      MESHAUTH_MULTIZONE_ZONE_GLOBAL_TOKEN_FILE: tokenFile,
      MESHAUTH_MULTIZONE_ZONE_SYNC_USER_TOKEN_KEYS: 'public',
      MESHAUTH_ACCESS_STATIC_GENERATE_DP_TOKEN_GROUPS: 'team-a',
    });
  };
  const dpServer = (zone: Daemon) => `http://127.0.0.1:${zone.ready.dpServerPort as number}`;
  const bootstrap = (zone: Daemon, dataplaneToken: string) =>
    http('POST', `${dpServer(zone)}/bootstrap`, { body: { mesh: 'default', name: 'web-1', dataplaneToken } });

  beforeAll(async () => {
    global = await startDaemon('global-cp', { MESHAUTH_STORE_SQLITE_PATH: join(dir.path, 'global.db') });
    admin = await readAdminToken(global.url);
    alice = await issueUserToken(global.url, admin, 'alice', ['team-a']);
    [zone1, zone2] = await Promise.all([startZone('zone-1'), startZone('zone-2')]);
    // Synced: global's user tokens authenticate on both zones.
    for (const zone of [zone1, zone2]) {
      await eventually(async () => expect((await http('GET', `${zone.url}/who-am-i`, { token: alice })).json?.name).toBe('alice'));
    }
  });
  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  it('a global user token of team-a generates a dataplane token on zone-1; one outside the rule gets 403', async () => {
    const bob = await issueUserToken(global.url, admin, 'bob', ['team-b']);
    await eventually(async () => expect((await http('GET', `${zone1.url}/who-am-i`, { token: bob })).json?.name).toBe('bob'));
    const refused = await http('POST', `${zone1.url}/tokens/dataplane`, { token: bob, body: { name: 'web-1', mesh: 'default', validFor: '1h' } });
    expect(refused.status).toBe(403);
  });

  it('the token bootstraps on zone-1, fails on zone-2, and fails on zone-1 after revocation', async () => {
    const issued = await http('POST', `${zone1.url}/tokens/dataplane`, {
      token: alice,
      body: { name: 'web-1', mesh: 'default', tags: { 'kuma.io/service': ['web'] }, type: 'dataplane', validFor: '1h' },
    });
    expect(issued.status).toBe(200);
    const token = issued.text;

    const ok = await bootstrap(zone1, token);
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ mesh: 'default', name: 'web-1', tags: { 'kuma.io/service': ['web'] }, type: 'dataplane', zone: 'zone-1' });

    const foreign = await bootstrap(zone2, token);
    expect(foreign.status).toBe(401);
    expect(foreign.json.reason).toBe('foreign-zone');

    const revoke = await http('PUT', `${zone1.url}/meshes/default/secrets/dataplane-token-revocations-default`, {
      token: admin,
      body: { type: 'Secret', mesh: 'default', name: 'dataplane-token-revocations-default', data: Buffer.from(decodeJwt(token).jti!).toString('base64') },
    });
    expect(revoke.status).toBe(201);
    const revoked = await bootstrap(zone1, token);
    expect(revoked.status).toBe(401);
    expect(revoked.json.reason).toBe('revoked');
  });

  it('global issues no dataplane token (409, ask the zone), and a dataplane key put on global never reaches zone-1', async () => {
    const fromGlobal = await http('POST', `${global.url}/tokens/dataplane`, { token: admin, body: { name: 'web-1', mesh: 'default', validFor: '1h' } });
    expect(fromGlobal.status).toBe(409);
    expect(fromGlobal.json.detail).toMatch(/ask the zone control plane/);
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const name = 'dataplane-token-signing-key-default-7';
    const put = await http('PUT', `${global.url}/meshes/default/secrets/${name}`, { token: admin, body: { type: 'Secret', mesh: 'default', name, data: Buffer.from(pem).toString('base64') } });
    expect(put.status).toBe(201);
    // Give sync every chance to carry the new key: wait until zone-1 has seen a later global change.
    const marker = await issueUserToken(global.url, admin, 'marker', []);
    const markerJti = decodeJwt(marker).jti!;
    expect((await http('POST', `${global.url}/tokens/user/revocations`, { token: admin, body: { jti: markerJti } })).status).toBeLessThan(300);
    await eventually(async () => expect((await http('GET', `${zone1.url}/who-am-i`, { token: marker })).status).toBe(401));
    expect((await http('GET', `${zone1.url}/meshes/default/secrets/${name}`, { token: admin })).status).toBe(404);
  });
});
