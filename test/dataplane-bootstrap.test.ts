import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, stopAll, tempDir, type Daemon } from './support/daemon.js';
import { http, issueUserToken, readAdminToken } from './support/http.js';

// Two independent zone-cp processes (no sync), each with its own dataplane keys: tokens are issued
// over the zone's HTTP API and presented to its dp-server (MESHAUTH_DP_SERVER_PORT) over HTTP.
describe('zone-cp dataplane tokens and the dp-server bootstrap', () => {
  const dir = tempDir();
  let zone1: Daemon;
  let zone2: Daemon;
  // Without sync each zone has its own user-token keys and admin token.
  const alice = new Map<Daemon, string>();
  const admin = new Map<Daemon, string>();

  beforeAll(async () => {
    const start = (zone: string) =>
      startDaemon('zone-cp', {
        MESHAUTH_STORE_SQLITE_PATH: join(dir.path, `${zone}.db`),
        MESHAUTH_MULTIZONE_ZONE_NAME: zone,
        MESHAUTH_ACCESS_STATIC_GENERATE_DP_TOKEN_GROUPS: 'team-a',
      });
    [zone1, zone2] = await Promise.all([start('zone-1'), start('zone-2')]);
    for (const zone of [zone1, zone2]) {
      admin.set(zone, await readAdminToken(zone.url));
      alice.set(zone, await issueUserToken(zone.url, admin.get(zone)!, 'alice', ['team-a']));
    }
  });
  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  const dpServerUrl = (zone: Daemon) => `http://127.0.0.1:${zone.ready.dpServerPort as number}`;
  const generate = async (zone: Daemon, overrides: Record<string, unknown> = {}) => {
    const body = { name: 'web-1', mesh: 'default', tags: { 'kuma.io/service': ['web'] }, type: 'dataplane', validFor: '1h', ...overrides };
    const issued = await http('POST', `${zone.url}/tokens/dataplane`, { token: alice.get(zone)!, body });
    expect(issued.status).toBe(200);
    return issued.text;
  };
  const bootstrap = (zone: Daemon, dataplaneToken: string, mesh = 'default', name = 'web-1') =>
    http('POST', `${dpServerUrl(zone)}/bootstrap`, { body: { mesh, name, dataplaneToken } });
  const putMeshSecret = (zone: Daemon, name: string, data: string) =>
    http('PUT', `${zone.url}/meshes/default/secrets/${name}`, {
      token: admin.get(zone)!,
      body: { type: 'Secret', mesh: 'default', name, data: Buffer.from(data).toString('base64') },
    });

  it('bootstraps on the zone that issued the token and not on another zone', async () => {
    const token = await generate(zone1);
    const ok = await bootstrap(zone1, token);
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ mesh: 'default', name: 'web-1', tags: { 'kuma.io/service': ['web'] }, type: 'dataplane', zone: 'zone-1' });

    const foreign = await bootstrap(zone2, token);
    expect(foreign.status).toBe(401);
    expect(foreign.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(foreign.json).toMatchObject({ reason: 'foreign-zone', detail: expect.stringContaining('zone zone-2') });

    // zone-2 with keys of its own for the mesh still refuses zone-1's token: same kid, other key.
    const own = await generate(zone2);
    expect(decodeProtectedHeader(own).kid).toBe(decodeProtectedHeader(token).kid);
    expect((await bootstrap(zone2, own)).status).toBe(200);
    expect((await bootstrap(zone2, token)).json.reason).toBe('foreign-zone');
  });

  it('refuses a token presented for another mesh or another name', async () => {
    const token = await generate(zone1);
    await generate(zone1, { mesh: 'payments' });
    expect((await bootstrap(zone1, token, 'payments')).json).toMatchObject({ status: 401, reason: 'other-mesh' });
    expect((await bootstrap(zone1, token, 'default', 'web-2')).json).toMatchObject({ status: 401, reason: 'other-name' });
  });

  it('refuses a token revoked through the mesh secret dataplane-token-revocations-{mesh}', async () => {
    const token = await generate(zone1);
    const kept = await generate(zone1, { name: 'web-2' });
    expect((await bootstrap(zone1, token)).status).toBe(200);
    expect((await putMeshSecret(zone1, 'dataplane-token-revocations-default', decodeJwt(token).jti!)).status).toBe(201);
    expect((await bootstrap(zone1, token)).json).toMatchObject({ status: 401, reason: 'revoked' });
    expect((await bootstrap(zone1, kept, 'default', 'web-2')).status).toBe(200);
  });

  it('rotates: the highest serial signs, every key present verifies, a removed key refuses its tokens', async () => {
    const before = await generate(zone1);
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    expect((await putMeshSecret(zone1, 'dataplane-token-signing-key-default-2', pem)).status).toBe(201);
    const after = await generate(zone1);
    expect(decodeProtectedHeader(after).kid).toBe('2');
    expect((await bootstrap(zone1, before)).status).toBe(200);
    expect((await bootstrap(zone1, after)).status).toBe(200);

    const removed = await http('DELETE', `${zone1.url}/meshes/default/secrets/dataplane-token-signing-key-default-1`, { token: admin.get(zone1)! });
    expect(removed.status).toBe(200);
    expect((await bootstrap(zone1, before)).json).toMatchObject({ status: 401, reason: 'key-rotated' });
    expect((await bootstrap(zone1, after)).status).toBe(200);
  });

  it('answers 400 to a body that is not a bootstrap request', async () => {
    const bad = await http('POST', `${dpServerUrl(zone1)}/bootstrap`, { body: { mesh: 'default', token: 'x' } });
    expect(bad.status).toBe(400);
    expect(bad.json.invalid_parameters.map((p: { field: string }) => p.field)).toEqual(expect.arrayContaining(['name', 'dataplaneToken']));
  });

  it('keeps its dataplane keys and revocations across a restart', async () => {
    const token = await generate(zone1, { name: 'web-3' });
    const revoked = await generate(zone1, { name: 'web-4' });
    expect((await putMeshSecret(zone1, 'dataplane-token-revocations-default', decodeJwt(revoked).jti!)).status).toBeLessThan(300);
    await zone1.stop();
    zone1 = await startDaemon('zone-cp', {
      MESHAUTH_STORE_SQLITE_PATH: join(dir.path, 'zone-1.db'),
      MESHAUTH_MULTIZONE_ZONE_NAME: 'zone-1',
    });
    expect((await bootstrap(zone1, token, 'default', 'web-3')).status).toBe(200);
    expect((await bootstrap(zone1, revoked, 'default', 'web-4')).json).toMatchObject({ status: 401, reason: 'revoked' });
  });
});
