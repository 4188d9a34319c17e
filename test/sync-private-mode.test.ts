import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll, tempDir, type Daemon } from './support/daemon.js';
import { http, issueUserToken } from './support/http.js';
import { startGlobal, startZone, syncStatus, writeZoneToken, type Global } from './support/sync-cluster.js';
import { waitFor } from './support/wait-for.js';

/** SPEC 6: the effective mode is the lesser of what the zone asks and what global allows. */
describe('sync in private mode', () => {
  const dir = tempDir();
  let global: Global;
  let privateZone: Daemon;
  let cappedZone: Daemon;

  beforeAll(async () => {
    global = await startGlobal(join(dir.path, 'global.db'), { MESHAUTH_MULTIZONE_GLOBAL_SYNC_USER_TOKEN_KEYS: 'private' });
    const zone = async (name: string, env: Record<string, string> = {}) =>
      startZone(name, join(dir.path, `${name}.db`), { mode: 'private', globalAddress: global.syncAddress, tokenFile: await writeZoneToken(global, dir.path, name), env });
    privateZone = await zone('zone-private');
    // Same global, but this zone asks only for public keys.
    cappedZone = await startZone('zone-public', join(dir.path, 'zone-public.db'), {
      mode: 'public',
      globalAddress: global.syncAddress,
      tokenFile: await writeZoneToken(global, dir.path, 'zone-public'),
    });
  });

  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  it('with both sides private, the zone issues user tokens that global (and the other zone) accept', async () => {
    const token = await waitFor('zone to receive the private key and issue', async () => {
      const r = await http('POST', `${privateZone.url}/tokens/user`, { body: { name: 'zoe', groups: ['ops'], validFor: '1h' } });
      return r.status === 200 ? r.text : undefined;
    });
    expect((await http('GET', `${global.url}/who-am-i`, { token })).json).toEqual({ name: 'zoe', groups: ['ops', 'mesh-system:authenticated'] });
    await waitFor('other zone accepts it', async () => (await http('GET', `${cappedZone.url}/who-am-i`, { token })).status === 200);
    const keys = (await http('GET', `${privateZone.url}/tokens/user/signing-keys`)).json.items;
    expect(keys).toMatchObject([{ serial: 1, hasPrivateKey: true, origin: 'synced', signs: true }]);
    expect(await syncStatus(privateZone)).toMatchObject({ mode: 'private', effectiveMode: 'private', state: 'connected' });
  });

  it('a zone asking public from a global allowing private still gets no private key', async () => {
    const global1 = await issueUserToken(global.url, global.adminToken, 'pat', []);
    await waitFor('capped zone accepts global tokens', async () => (await http('GET', `${cappedZone.url}/who-am-i`, { token: global1 })).status === 200);
    const keys = (await http('GET', `${cappedZone.url}/tokens/user/signing-keys`)).json.items;
    expect(keys).toMatchObject([{ serial: 1, hasPrivateKey: false }]);
    expect((await http('POST', `${cappedZone.url}/tokens/user`, { body: { name: 'x', validFor: '1h' } })).status).toBe(409);
    expect(await syncStatus(cappedZone)).toMatchObject({ mode: 'public', effectiveMode: 'public' });
  });
});

describe('a zone asking private from a global allowing only public', () => {
  const dir = tempDir();
  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  it('gets public mode: verifies global tokens, cannot issue', async () => {
    const global = await startGlobal(join(dir.path, 'global.db'));
    const zone = await startZone('zone-1', join(dir.path, 'zone.db'), { mode: 'private', globalAddress: global.syncAddress, tokenFile: await writeZoneToken(global, dir.path, 'zone-1') });
    const token = await issueUserToken(global.url, global.adminToken, 'sam', []);
    await waitFor('zone accepts global token', async () => (await http('GET', `${zone.url}/who-am-i`, { token })).status === 200);
    expect(await syncStatus(zone)).toMatchObject({ mode: 'private', effectiveMode: 'public' });
    const refused = await http('POST', `${zone.url}/tokens/user`, { body: { name: 'x', validFor: '1h' } });
    expect(refused.status).toBe(409);
    expect((await http('GET', `${zone.url}/tokens/user/signing-keys`)).json.items).toMatchObject([{ serial: 1, hasPrivateKey: false }]);
  });
});
